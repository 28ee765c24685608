#include "repo/projects.h"

#include <algorithm>
#include <set>

#include "core/json.h"
#include "core/strings.h"
#include "repo/document.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns = "id, space_id, name, slug, project_group_id, lifecycle_id, json";
const std::string kOrder = ByteOrder("name", true) + ", " + ByteOrder("id");

ProjectRow ReadProject(const db::Row& r) {
  ProjectRow p{r.GetString("id"),
               r.GetString("space_id"),
               r.GetString("name"),
               r.GetString("slug"),
               r.GetString("project_group_id"),
               r.GetString("lifecycle_id"),
               {},
               nlohmann::json::object()};
  p.doc = ReadDocument(r);
  return p;
}

Where FilterWhere(const ProjectFilter& f, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.project_group_id) w.Add("lower(project_group_id) = lower({})", *f.project_group_id);
  if (f.name) w.Add("lower(name) = lower({})", *f.name);
  w.ListFilters(q);
  return w;
}

// Fills each project's included library sets with one query for the whole page.
template <class Exec>
Result<void> LoadIncluded(Exec& exec, std::vector<ProjectRow>& rows) {
  if (rows.empty()) return {};
  std::vector<std::string> ids;
  for (const auto& p : rows) ids.push_back(p.id);
  Where w;
  w.In("project_id", ids);
  CUTTLE_TRY(auto rs, exec.Execute("SELECT project_id, library_variable_set_id FROM "
                                   "project_library_variable_sets" +
                                       w.Sql() + " ORDER BY project_id, position",
                                   w.params()));
  for (const auto& r : rs.rows) {
    const std::string project = r.GetString(0);
    for (auto& p : rows) {
      if (p.id == project) p.included_library_variable_set_ids.push_back(r.GetString(1));
    }
  }
  return {};
}

template <class Exec>
Result<std::optional<ProjectRow>> FindIn(Exec& exec, const std::string& space_id,
                                         const std::string& id_or_slug) {
  CUTTLE_TRY(auto rs, exec.Execute(std::string("SELECT ") + kColumns +
                                       " FROM projects WHERE space_id = $1 AND "
                                       "(lower(id) = lower($2) OR slug = lower($2)) "
                                       "ORDER BY CASE WHEN lower(id) = lower($2) THEN 0 ELSE 1 "
                                       "END LIMIT 1",
                                   {space_id, id_or_slug}));
  if (rs.empty()) return std::optional<ProjectRow>();
  std::vector<ProjectRow> rows{ReadProject(rs.front())};
  CUTTLE_TRY_VOID(LoadIncluded(exec, rows));
  return std::optional<ProjectRow>(std::move(rows.front()));
}

Result<void> WriteIncluded(db::Transaction& tx, const ProjectRow& p) {
  CUTTLE_TRY_VOID(
      tx.Execute("DELETE FROM project_library_variable_sets WHERE project_id = $1", {p.id}));
  int64_t position = 0;
  for (const auto& id : p.included_library_variable_set_ids) {
    CUTTLE_TRY_VOID(tx.Execute(
        "INSERT INTO project_library_variable_sets (project_id, library_variable_set_id, "
        "position) VALUES ($1, $2, $3)",
        {p.id, id, position++}));
  }
  return {};
}

}  // namespace

Result<Page<ProjectRow>> ListProjects(db::Database& db, const ProjectFilter& f,
                                      const PageQuery& q) {
  CUTTLE_TRY(auto page, SelectPage<ProjectRow>(db, kColumns, "projects", FilterWhere(f, q), kOrder,
                                               q, ReadProject));
  CUTTLE_TRY_VOID(LoadIncluded(db, page.items));
  return page;
}

Result<std::vector<ProjectRow>> ListAllProjects(db::Database& db, const ProjectFilter& f,
                                                const PageQuery& q) {
  CUTTLE_TRY(auto rows, SelectAll<ProjectRow>(db, kColumns, "projects", FilterWhere(f, q), kOrder,
                                              ReadProject));
  CUTTLE_TRY_VOID(LoadIncluded(db, rows));
  return rows;
}

Result<std::optional<ProjectRow>> FindProject(db::Database& db, const std::string& space_id,
                                              const std::string& id_or_slug) {
  return FindIn(db, space_id, id_or_slug);
}

Result<std::optional<ProjectRow>> FindProject(db::Transaction& tx, const std::string& space_id,
                                              const std::string& id_or_slug) {
  return FindIn(tx, space_id, id_or_slug);
}

bool ProjectIsDisabled(const ProjectRow& p) { return core::FlagMember(p.doc, "IsDisabled"); }

Result<void> InsertProject(db::Transaction& tx, const ProjectRow& p) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO projects (id, space_id, name, slug, project_group_id, lifecycle_id, json, "
      "is_disabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {p.id, p.space_id, p.name, p.slug, p.project_group_id, p.lifecycle_id, p.doc.dump(),
       ProjectIsDisabled(p)}));
  return WriteIncluded(tx, p);
}

Result<void> UpdateProject(db::Transaction& tx, const ProjectRow& p) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE projects SET name = $2, slug = $3, project_group_id = $4, "
                                 "lifecycle_id = $5, json = $6, is_disabled = $7 WHERE id = $1",
                                 {p.id, p.name, p.slug, p.project_group_id, p.lifecycle_id,
                                  p.doc.dump(), ProjectIsDisabled(p)}));
  if (rs.affected == 0) return Fail(Error::NotFound("project", p.id));
  return WriteIncluded(tx, p);
}

Result<void> DeleteProject(db::Transaction& tx, const std::string& id) {
  CUTTLE_TRY_VOID(
      tx.Execute("DELETE FROM project_library_variable_sets WHERE project_id = $1", {id}));
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM projects WHERE id = $1", {id}));
  if (rs.affected == 0) return Fail(Error::NotFound("project", id));
  return {};
}

Result<std::vector<std::string>> ProjectsIncluding(db::Transaction& tx,
                                                   const std::string& library_variable_set_id) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT project_id FROM project_library_variable_sets WHERE "
                                 "library_variable_set_id = $1 ORDER BY project_id",
                                 {library_variable_set_id}));
  std::vector<std::string> out;
  for (const auto& r : rs.rows) out.push_back(r.GetString(0));
  return out;
}

namespace {

template <class Exec>
Result<std::vector<std::string>> MissingIn(Exec& tx, std::string_view table,
                                           const std::string& space_id,
                                           const std::vector<std::string>& ids, bool lock) {
  std::vector<std::string> missing;
  if (ids.empty()) return missing;
  Where w;
  w.Add("space_id = {}", space_id).InIgnoreCase("id", ids);
  // In a transaction the found rows are locked with a no-op UPDATE (as repo::LockExisting does),
  // so this reference and a concurrent delete of the referred row are ordered: the delete then
  // finds the reference and is refused, or this save finds the row gone.
  const std::string sql =
      lock ? "UPDATE " + std::string(table) + " SET id = id" + w.Sql() + " RETURNING lower(id)"
           : "SELECT lower(id) FROM " + std::string(table) + w.Sql();
  CUTTLE_TRY(auto rs, tx.Execute(sql, w.params()));
  std::set<std::string> found;
  for (const auto& r : rs.rows) found.insert(r.GetString(0));
  for (const auto& id : ids) {
    if (!found.contains(core::ToLower(id)) &&
        std::find(missing.begin(), missing.end(), id) == missing.end()) {
      missing.push_back(id);
    }
  }
  return missing;
}

}  // namespace

Result<std::vector<std::string>> MissingInSpace(db::Transaction& tx, std::string_view table,
                                                const std::string& space_id,
                                                const std::vector<std::string>& ids) {
  return MissingIn(tx, table, space_id, ids, /*lock=*/true);
}

Result<std::vector<std::string>> MissingInSpace(db::Database& db, std::string_view table,
                                                const std::string& space_id,
                                                const std::vector<std::string>& ids) {
  return MissingIn(db, table, space_id, ids, /*lock=*/false);
}

Result<std::optional<std::string>> ProjectNaming(db::Transaction& tx, std::string_view column,
                                                 const std::string& id) {
  // Channels name lifecycles too; report the project either way.
  const std::string sql =
      column == "lifecycle_id"
          ? "SELECT name FROM projects WHERE lifecycle_id = $1 UNION SELECT p.name FROM channels c "
            "JOIN projects p ON p.id = c.project_id WHERE c.lifecycle_id = $1 ORDER BY 1 LIMIT 1"
          : "SELECT name FROM projects WHERE " + std::string(column) + " = $1 ORDER BY 1 LIMIT 1";
  CUTTLE_TRY(auto rs, tx.Execute(sql, {id}));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<void> ReplaceReferences(db::Transaction& tx, const std::string& document_id,
                               const std::vector<std::string>& referenced_ids) {
  // Stored lower-case: clients may spell an id in any case, and the lookup is then an index seek.
  std::vector<std::string> keys;
  for (const auto& id : referenced_ids) keys.push_back(core::ToLower(id));
  return ReplaceChildren(tx, "model_references", "document_id", "referenced_id", document_id, keys);
}

Result<void> DeleteReferencesOf(db::Transaction& tx, const std::vector<std::string>& document_ids) {
  if (document_ids.empty()) return {};
  Where w;
  w.In("document_id", document_ids);
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM model_references" + w.Sql(), w.params()));
  return {};
}

Result<std::optional<std::string>> DocumentNaming(db::Transaction& tx,
                                                  const std::string& referenced_id) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT document_id FROM model_references WHERE "
                                 "referenced_id = lower($1) ORDER BY document_id LIMIT 1",
                                 {referenced_id}));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

}  // namespace cuttle::repo
