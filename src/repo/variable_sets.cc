#include "repo/variable_sets.h"

#include "core/json.h"
#include "repo/releases.h"

namespace cuttle::repo {

namespace {

constexpr const char* kSetColumns = "id, space_id, owner_id, version, json";
constexpr const char* kLibraryColumns = "id, space_id, name, variable_set_id, content_type, json";
const std::string kLibraryOrder = ByteOrder("name", true) + ", " + ByteOrder("id");

nlohmann::json ParseOr(const std::string& text, nlohmann::json fallback) {
  auto parsed = core::ParseJson(text);
  return parsed && parsed->type() == fallback.type() ? std::move(*parsed) : fallback;
}

VariableSetRow ReadSet(const db::Row& r) {
  return VariableSetRow{r.GetString("id"), r.GetString("space_id"), r.GetString("owner_id"),
                        r.GetInt("version"), ParseOr(r.GetString("json"), nlohmann::json::array())};
}

LibraryVariableSetRow ReadLibrary(const db::Row& r) {
  return LibraryVariableSetRow{
      r.GetString("id"),           r.GetString("space_id"),
      r.GetString("name"),         r.GetString("variable_set_id"),
      r.GetString("content_type"), ParseOr(r.GetString("json"), nlohmann::json::object())};
}

template <class Exec>
Result<std::optional<VariableSetRow>> FindIn(Exec& exec, const std::string& space_id,
                                             const std::string& id) {
  CUTTLE_TRY(auto rs, exec.Execute(std::string("SELECT ") + kSetColumns +
                                       " FROM variable_sets WHERE space_id = $1 AND lower(id) = "
                                       "lower($2)",
                                   {space_id, id}));
  if (rs.empty()) return std::optional<VariableSetRow>();
  return std::optional<VariableSetRow>(ReadSet(rs.front()));
}

Where LibraryWhere(const LibraryVariableSetFilter& f, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.content_type) w.Add("lower(content_type) = lower({})", *f.content_type);
  w.ListFilters(q);
  return w;
}

}  // namespace

Result<std::optional<VariableSetRow>> FindVariableSet(db::Database& db, const std::string& space_id,
                                                      const std::string& id) {
  return FindIn(db, space_id, id);
}

Result<std::optional<VariableSetRow>> FindVariableSet(db::Transaction& tx,
                                                      const std::string& space_id,
                                                      const std::string& id) {
  return FindIn(tx, space_id, id);
}

Result<void> InsertVariableSet(db::Transaction& tx, const VariableSetRow& v) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO variable_sets (id, space_id, owner_id, version, json) VALUES ($1, $2, $3, $4, "
      "$5)",
      {v.id, v.space_id, v.owner_id, v.version, v.variables.dump()}));
  return {};
}

Result<std::optional<int64_t>> UpdateVariableSet(db::Transaction& tx, const VariableSetRow& v,
                                                 int64_t expected_version) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE variable_sets SET json = $3, version = version + 1 "
                                 "WHERE id = $1 AND version = $2 RETURNING version",
                                 {v.id, expected_version, v.variables.dump()}));
  if (rs.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rs.front().GetInt(0));
}

Result<void> DeleteVariableSetsOf(db::Transaction& tx, const std::string& owner_id) {
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM variable_sets WHERE owner_id = $1", {owner_id}));
  return {};
}

Result<std::vector<std::string>> FreezeVariableSets(db::Transaction& tx,
                                                    const std::string& space_id,
                                                    const std::string& owner_id,
                                                    const std::vector<std::string>& set_ids) {
  std::vector<std::string> out;
  out.reserve(set_ids.size());
  for (const auto& set_id : set_ids) {
    CUTTLE_TRY(auto set, FindVariableSet(tx, space_id, set_id));
    CUTTLE_TRY(auto id, NextSnapshotId(tx, set_id));
    CUTTLE_TRY_VOID(InsertVariableSet(tx, {id, space_id, owner_id, set ? set->version : 0,
                                           set ? set->variables : nlohmann::json::array()}));
    out.push_back(std::move(id));
  }
  return out;
}

Result<Page<LibraryVariableSetRow>> ListLibraryVariableSets(db::Database& db,
                                                            const LibraryVariableSetFilter& f,
                                                            const PageQuery& q) {
  return SelectPage<LibraryVariableSetRow>(db, kLibraryColumns, "library_variable_sets",
                                           LibraryWhere(f, q), kLibraryOrder, q, ReadLibrary);
}

Result<std::vector<LibraryVariableSetRow>> ListAllLibraryVariableSets(
    db::Database& db, const LibraryVariableSetFilter& f, const PageQuery& q) {
  return SelectAll<LibraryVariableSetRow>(db, kLibraryColumns, "library_variable_sets",
                                          LibraryWhere(f, q), kLibraryOrder, ReadLibrary);
}

Result<std::optional<LibraryVariableSetRow>> FindLibraryVariableSet(db::Database& db,
                                                                    const std::string& space_id,
                                                                    const std::string& id) {
  Where w;
  w.Add("space_id = {}", space_id).Add("lower(id) = lower({})", id);
  CUTTLE_TRY(auto rows,
             SelectAll<LibraryVariableSetRow>(db, kLibraryColumns, "library_variable_sets", w,
                                              kLibraryOrder, ReadLibrary));
  if (rows.empty()) return std::optional<LibraryVariableSetRow>();
  return std::optional<LibraryVariableSetRow>(std::move(rows.front()));
}

Result<void> InsertLibraryVariableSet(db::Transaction& tx, const LibraryVariableSetRow& l) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO library_variable_sets (id, space_id, name, variable_set_id, content_type, "
      "json) VALUES ($1, $2, $3, $4, $5, $6)",
      {l.id, l.space_id, l.name, l.variable_set_id, l.content_type, l.doc.dump()}));
  return {};
}

Result<void> UpdateLibraryVariableSet(db::Transaction& tx, const LibraryVariableSetRow& l) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE library_variable_sets SET name = $2, content_type = $3, "
                                 "json = $4 WHERE id = $1",
                                 {l.id, l.name, l.content_type, l.doc.dump()}));
  if (rs.affected == 0) return Fail(Error::NotFound("library variable set", l.id));
  return {};
}

Result<void> DeleteLibraryVariableSet(db::Transaction& tx, const std::string& id) {
  CUTTLE_TRY_VOID(tx.Execute(
      "DELETE FROM project_library_variable_sets WHERE library_variable_set_id = $1", {id}));
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM library_variable_sets WHERE id = $1", {id}));
  if (rs.affected == 0) return Fail(Error::NotFound("library variable set", id));
  return {};
}

}  // namespace cuttle::repo

namespace cuttle::repo {

Result<ScopeCandidates> ListScopeCandidates(db::Database& db, const std::string& space_id,
                                            const std::string& project_id) {
  ScopeCandidates out;
  auto pairs = [&](std::string_view sql, const db::Params& params,
                   std::vector<NamedRef>& into) -> Result<void> {
    CUTTLE_TRY(auto rs, db.Execute(sql, params));
    for (const auto& r : rs.rows) into.push_back({r.GetString(0), r.GetString(1)});
    return {};
  };
  CUTTLE_TRY_VOID(
      pairs("SELECT id, name FROM environments WHERE space_id = $1 "
            "ORDER BY sort_order, " +
                ByteOrder("name", true),
            {space_id}, out.environments));
  CUTTLE_TRY_VOID(
      pairs("SELECT id, name FROM machines WHERE space_id = $1 ORDER BY " + ByteOrder("name", true),
            {space_id}, out.machines));
  // DISTINCT: the ORDER BY term is the selected one.
  CUTTLE_TRY(auto roles, db.Execute("SELECT DISTINCT " + ByteOrder("r.role") +
                                        " FROM machine_roles r JOIN machines m ON m.id = "
                                        "r.machine_id WHERE m.space_id = $1 ORDER BY 1",
                                    {space_id}));
  for (const auto& r : roles.rows) out.roles.push_back(r.GetString(0));
  if (!project_id.empty()) {
    CUTTLE_TRY_VOID(
        pairs("SELECT id, name FROM channels WHERE project_id = $1 "
              "ORDER BY is_default DESC, " +
                  ByteOrder("name", true),
              {project_id}, out.channels));
  }
  return out;
}

}  // namespace cuttle::repo
