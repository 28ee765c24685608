#include "repo/project_groups.h"

#include <algorithm>

#include "core/strings.h"
#include "repo/document.h"
#include "repo/repo.h"
#include "repo/spaces.h"

namespace cuttle::repo {

namespace {

using nlohmann::json;

constexpr const char* kColumns = "id, space_id, name, json";
const std::string kOrder = "LENGTH(id), " + ByteOrder("id");

ProjectGroupRow ReadProjectGroup(const db::Row& r) {
  ProjectGroupRow g;
  g.id = r.GetString("id");
  g.space_id = r.GetString("space_id");
  g.name = r.GetString("name");
  const json doc = ReadDocument(r);
  g.description = doc.value("Description", "");
  if (auto it = doc.find("EnvironmentIds"); it != doc.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) g.environment_ids.push_back(v.get<std::string>());
    }
  }
  if (auto it = doc.find("RetentionPolicyId"); it != doc.end() && it->is_string()) {
    g.retention_policy_id = it->get<std::string>();
  }
  if (auto it = doc.find("Extra"); it != doc.end() && it->is_object()) g.extra = *it;
  return g;
}

std::string Document(const ProjectGroupRow& g) {
  return json{{"Description", g.description},
              {"EnvironmentIds", g.environment_ids},
              {"RetentionPolicyId", g.retention_policy_id ? json(*g.retention_policy_id) : json()},
              {"Extra", g.extra}}
      .dump();
}

Where InSpace(const std::string& space_id, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", space_id);
  w.ListFilters(q);
  return w;
}

Result<void> CheckEnvironments(db::Transaction& tx, const ProjectGroupRow& g) {
  CUTTLE_TRY(auto found, LockExisting(tx, "environments", g.space_id, g.environment_ids));
  std::vector<std::string> details;
  for (const auto& id : g.environment_ids) {
    if (std::none_of(found.begin(), found.end(),
                     [&](const std::string& f) { return core::EqualsIgnoreCase(f, id); })) {
      details.push_back("The environment '" + id + "' was not found in " + g.space_id + ".");
    }
  }
  if (details.empty()) return {};
  return Fail(
      Error::Invalid("The project group could not be saved: it names environments that "
                     "are not in this space.",
                     details));
}

}  // namespace

Result<Page<ProjectGroupRow>> ListProjectGroups(db::Database& db, const std::string& space_id,
                                                const PageQuery& q) {
  return SelectPage<ProjectGroupRow>(db, kColumns, "project_groups", InSpace(space_id, q), kOrder,
                                     q, ReadProjectGroup);
}

Result<std::vector<ProjectGroupRow>> ListAllProjectGroups(db::Database& db,
                                                          const std::string& space_id,
                                                          const PageQuery& q) {
  return SelectAll<ProjectGroupRow>(db, kColumns, "project_groups", InSpace(space_id, q), kOrder,
                                    ReadProjectGroup);
}

Result<std::optional<ProjectGroupRow>> FindProjectGroup(db::Database& db,
                                                        const std::string& space_id,
                                                        const std::string& id) {
  Where w;
  w.Add("space_id = {}", space_id).Add("lower(id) = {}", core::ToLower(id));
  CUTTLE_TRY(auto rows, SelectAll<ProjectGroupRow>(db, kColumns, "project_groups", w, kOrder,
                                                   ReadProjectGroup));
  if (rows.empty()) return std::optional<ProjectGroupRow>();
  return std::optional<ProjectGroupRow>(std::move(rows.front()));
}

Result<ProjectGroupRow> InsertProjectGroup(db::Transaction& tx, ProjectGroupRow row) {
  CUTTLE_TRY_VOID(LockSpace(tx, row.space_id));
  CUTTLE_TRY_VOID(CheckEnvironments(tx, row));
  if (row.id.empty()) {
    CUTTLE_TRY(row.id, NextId(tx, "ProjectGroups"));
  }
  auto inserted =
      tx.Execute("INSERT INTO project_groups (id, space_id, name, json) VALUES ($1, $2, $3, $4)",
                 {row.id, row.space_id, row.name, Document(row)});
  if (!inserted) return Fail(NameTaken(inserted.error(), "A project group", row.name));
  return row;
}

Result<bool> UpdateProjectGroup(db::Transaction& tx, const ProjectGroupRow& row) {
  CUTTLE_TRY_VOID(CheckEnvironments(tx, row));
  auto updated =
      tx.Execute("UPDATE project_groups SET name = $3, json = $4 WHERE space_id = $1 AND id = $2",
                 {row.space_id, row.id, row.name, Document(row)});
  if (!updated) return Fail(NameTaken(updated.error(), "A project group", row.name));
  return updated->affected > 0;
}

Result<bool> DeleteProjectGroup(db::Transaction& tx, const std::string& space_id,
                                const std::string& id) {
  CUTTLE_TRY(auto deleted, tx.Execute("DELETE FROM project_groups WHERE space_id = $1 AND id = $2",
                                      {space_id, id}));
  return deleted.affected > 0;
}

}  // namespace cuttle::repo
