#include "repo/processes.h"

#include "core/json.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns = "id, space_id, owner_id, kind, version, last_snapshot_id, json";

ProcessRow ReadProcess(const db::Row& r) {
  ProcessRow p{r.GetString("id"),       r.GetString("space_id"),
               r.GetString("owner_id"), r.GetString("kind"),
               r.GetInt("version"),     r.GetOptionalString("last_snapshot_id"),
               nlohmann::json::array()};
  // Written only by this program; a hand-edited row reads as no steps rather than failing.
  auto steps = core::ParseJson(r.GetString("json"));
  if (steps && steps->is_array()) p.steps = std::move(*steps);
  return p;
}

db::Value Nullable(const std::optional<std::string>& s) {
  return s ? db::Value(*s) : db::Value(std::monostate{});
}

template <class Exec>
Result<std::optional<ProcessRow>> FindIn(Exec& exec, const std::string& space_id,
                                         const std::string& id) {
  CUTTLE_TRY(auto rs, exec.Execute(std::string("SELECT ") + kColumns +
                                       " FROM processes WHERE space_id = $1 AND lower(id) = "
                                       "lower($2)",
                                   {space_id, id}));
  if (rs.empty()) return std::optional<ProcessRow>();
  return std::optional<ProcessRow>(ReadProcess(rs.front()));
}

}  // namespace

Result<std::optional<ProcessRow>> FindProcess(db::Database& db, const std::string& space_id,
                                              const std::string& id) {
  return FindIn(db, space_id, id);
}

Result<std::optional<ProcessRow>> FindProcess(db::Transaction& tx, const std::string& space_id,
                                              const std::string& id) {
  return FindIn(tx, space_id, id);
}

Result<void> InsertProcess(db::Transaction& tx, const ProcessRow& p) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO processes (id, space_id, owner_id, kind, version, last_snapshot_id, json) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {p.id, p.space_id, p.owner_id, p.kind, p.version, Nullable(p.last_snapshot_id),
       p.steps.dump()}));
  return {};
}

Result<std::optional<int64_t>> UpdateProcess(db::Transaction& tx, const ProcessRow& p,
                                             int64_t expected_version) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE processes SET json = $3, version = version + 1 "
                                 "WHERE id = $1 AND version = $2 RETURNING version",
                                 {p.id, expected_version, p.steps.dump()}));
  if (rs.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rs.front().GetInt(0));
}

Result<void> SetProcessSnapshot(db::Transaction& tx, const std::string& id,
                                const std::string& snapshot_id) {
  CUTTLE_TRY_VOID(
      tx.Execute("UPDATE processes SET last_snapshot_id = $2 WHERE id = $1", {id, snapshot_id}));
  return {};
}

Result<void> DeleteProcessesOf(db::Transaction& tx, const std::string& owner_id) {
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM processes WHERE owner_id = $1", {owner_id}));
  return {};
}

}  // namespace cuttle::repo
