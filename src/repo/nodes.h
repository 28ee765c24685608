// The server nodes aggregate: rows of `server_nodes`, one per node of the cluster, written by the
// node itself (upsert at start, heartbeat, offline mark at a clean stop) and by operators (task
// cap, drain, delete). Whether a node is offline is always computed on the database clock.
// Stateless; thread-safe as the Database is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct NodeRow {
  std::string id;
  std::string name;
  int max_concurrent_tasks = 5;
  bool is_in_maintenance_mode = false;
  int64_t last_seen = 0;   // database clock, ms
  int64_t started_at = 0;  // database clock, ms
  std::string version;
  int schema_version = 0;
  int64_t lease_epoch = 0;
  bool is_offline = false;  // computed: marked offline, or unseen for longer than the timeout
  int64_t running_task_count = 0;
  std::optional<int64_t> last_modified_on;
  std::optional<std::string> last_modified_by;
};

std::string NodeId(const std::string& name);  // "OctopusServerNodes-<name>"

// Inserts this node's row, or refreshes an existing one (started_at, version, last_seen, back
// online) keeping its task cap and drain flag: the row is the truth once it exists.
Result<NodeRow> UpsertNode(db::Database& db, const std::string& name, int initial_task_cap,
                           const std::string& version, int schema_version);
// Heartbeat: last_seen = now_ms(). Returns nullopt if the row was deleted (the caller re-inserts).
// One attempt (Database::ExecuteOnce): a failure returns at once, and the registry retries on
// its own short cadence.
Result<std::optional<NodeRow>> Heartbeat(db::Database& db, const std::string& id);
// Clean shutdown: the node is offline at once.
Result<void> MarkOffline(db::Database& db, const std::string& id);

// Nodes by name, with is_offline computed against `node_timeout_ms` on the database clock; the
// common list filters apply to id and name.
Result<Page<NodeRow>> ListNodes(db::Database& db, int64_t node_timeout_ms, const PageQuery& q);
Result<std::vector<NodeRow>> ListAllNodes(db::Database& db, int64_t node_timeout_ms,
                                          const PageQuery& q = {});
// By id (case-insensitive) or exact name.
Result<std::optional<NodeRow>> FindNode(db::Database& db, const std::string& id_or_name,
                                        int64_t node_timeout_ms);
// When the node named `name` last heartbeat (database clock), or nullopt if it has no row.
Result<std::optional<int64_t>> NodeLastSeen(db::Database& db, const std::string& name);

struct NodeUpdate {
  std::optional<int> max_concurrent_tasks;
  std::optional<bool> is_in_maintenance_mode;
  std::string modified_by;
};
// nullopt if there was no such node.
Result<std::optional<NodeRow>> UpdateNode(db::Database& db, const std::string& id,
                                          const NodeUpdate& update, int64_t node_timeout_ms);
// Returns false if there was no such node.
Result<bool> DeleteNode(db::Database& db, const std::string& id);

}  // namespace cuttle::repo
