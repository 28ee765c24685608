#include "repo/nodes.h"

namespace cuttle::repo {

namespace {

constexpr const char* kNodeReturning =
    "id, name, max_concurrent_tasks, is_in_maintenance_mode, last_seen, started_at, version, "
    "schema_version, lease_epoch, last_modified_on, last_modified_by";
constexpr const char* kFrom = "server_nodes n";
const std::string kOrder = ByteOrder("n.name");

// The row's columns and the liveness computed on the database clock. The timeout is a number from
// the node's own configuration, written into the statement so that the count and the page (which
// share the filter's parameters) need no extra one.
std::string NodeColumns(int64_t node_timeout_ms) {
  return "n.id, n.name, n.max_concurrent_tasks, n.is_in_maintenance_mode, n.last_seen, "
         "n.started_at, n.version, n.schema_version, n.lease_epoch, n.last_modified_on, "
         "n.last_modified_by, CASE WHEN n.is_offline_marked OR now_ms() - n.last_seen > " +
         std::to_string(node_timeout_ms) +
         " THEN 1 ELSE 0 END AS is_offline, "
         "(SELECT COUNT(*) FROM server_tasks t WHERE t.server_node = n.name AND t.state IN "
         "('Executing', 'Cancelling')) AS running_task_count";
}

NodeRow ReadNode(const db::Row& r) {
  NodeRow n;
  n.id = r.GetString("id");
  n.name = r.GetString("name");
  n.max_concurrent_tasks = static_cast<int>(r.GetInt("max_concurrent_tasks"));
  n.is_in_maintenance_mode = r.GetBool("is_in_maintenance_mode");
  n.last_seen = r.GetInt("last_seen");
  n.started_at = r.GetInt("started_at");
  n.version = r.GetString("version");
  n.schema_version = static_cast<int>(r.GetInt("schema_version"));
  n.lease_epoch = r.GetInt("lease_epoch");
  n.last_modified_on = r.GetOptionalInt("last_modified_on");
  n.last_modified_by = r.GetOptionalString("last_modified_by");
  return n;
}

NodeRow ReadNodeWithStatus(const db::Row& r) {
  NodeRow n = ReadNode(r);
  n.is_offline = r.GetBool("is_offline");
  n.running_task_count = r.GetInt("running_task_count");
  return n;
}

}  // namespace

std::string NodeId(const std::string& name) { return "OctopusServerNodes-" + name; }

Result<NodeRow> UpsertNode(db::Database& db, const std::string& name, int initial_task_cap,
                           const std::string& version, int schema_version) {
  CUTTLE_TRY(auto rs,
             db.Execute(std::string("INSERT INTO server_nodes (id, name, max_concurrent_tasks, "
                                    "last_seen, started_at, version, schema_version) "
                                    "VALUES ($1, $2, $3, now_ms(), now_ms(), $4, $5) "
                                    "ON CONFLICT (id) DO UPDATE SET last_seen = now_ms(), "
                                    "started_at = now_ms(), version = $4, schema_version = $5, "
                                    "is_offline_marked = $6 RETURNING ") +
                            kNodeReturning,
                        {NodeId(name), name, int64_t{initial_task_cap}, version,
                         int64_t{schema_version}, false}));
  return ReadNode(rs.front());
}

Result<std::optional<NodeRow>> Heartbeat(db::Database& db, const std::string& id) {
  CUTTLE_TRY(auto rs,
             db.ExecuteOnce(std::string("UPDATE server_nodes SET last_seen = now_ms(), "
                                        "is_offline_marked = $2 WHERE id = $1 RETURNING ") +
                                kNodeReturning,
                            {id, false}));
  if (rs.empty()) return std::optional<NodeRow>();
  return std::optional<NodeRow>(ReadNode(rs.front()));
}

Result<void> MarkOffline(db::Database& db, const std::string& id) {
  CUTTLE_TRY_VOID(
      db.Execute("UPDATE server_nodes SET is_offline_marked = $2 WHERE id = $1", {id, true}));
  return {};
}

Result<Page<NodeRow>> ListNodes(db::Database& db, int64_t node_timeout_ms, const PageQuery& q) {
  Where w;
  w.ListFilters(q, "n.id", "n.name");
  return SelectPage<NodeRow>(db, NodeColumns(node_timeout_ms), kFrom, w, kOrder, q,
                             ReadNodeWithStatus);
}

Result<std::vector<NodeRow>> ListAllNodes(db::Database& db, int64_t node_timeout_ms,
                                          const PageQuery& q) {
  Where w;
  w.ListFilters(q, "n.id", "n.name");
  return SelectAll<NodeRow>(db, NodeColumns(node_timeout_ms), kFrom, w, kOrder, ReadNodeWithStatus);
}

Result<std::optional<NodeRow>> FindNode(db::Database& db, const std::string& id_or_name,
                                        int64_t node_timeout_ms) {
  Where w;
  w.Add("(LOWER(n.id) = LOWER({}) OR n.name = {})", id_or_name, id_or_name);
  CUTTLE_TRY(auto rows, SelectAll<NodeRow>(db, NodeColumns(node_timeout_ms), kFrom, w, kOrder,
                                           ReadNodeWithStatus));
  if (rows.empty()) return std::optional<NodeRow>();
  return std::optional<NodeRow>(std::move(rows.front()));
}

Result<std::optional<int64_t>> NodeLastSeen(db::Database& db, const std::string& name) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT last_seen FROM server_nodes WHERE name = $1", {name}));
  if (rs.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rs.front().GetInt(0));
}

Result<std::optional<NodeRow>> UpdateNode(db::Database& db, const std::string& id,
                                          const NodeUpdate& update, int64_t node_timeout_ms) {
  db::Params params = {id, db::Value(), db::Value(), update.modified_by};
  if (update.max_concurrent_tasks) params[1] = int64_t{*update.max_concurrent_tasks};
  if (update.is_in_maintenance_mode) params[2] = *update.is_in_maintenance_mode;
  CUTTLE_TRY(auto rs, db.Execute("UPDATE server_nodes SET "
                                 "max_concurrent_tasks = COALESCE($2, max_concurrent_tasks), "
                                 "is_in_maintenance_mode = COALESCE($3, is_in_maintenance_mode), "
                                 "last_modified_on = now_ms(), last_modified_by = $4 "
                                 "WHERE id = $1",
                                 params));
  if (rs.affected == 0) return std::optional<NodeRow>();
  return FindNode(db, id, node_timeout_ms);
}

Result<bool> DeleteNode(db::Database& db, const std::string& id) {
  CUTTLE_TRY(auto rs, db.Execute("DELETE FROM server_nodes WHERE id = $1", {id}));
  return rs.affected > 0;
}

}  // namespace cuttle::repo
