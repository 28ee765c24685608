// Every aggregate of repo/ in one include, for code that uses several. Each aggregate has its own
// file pair (settings, nodes, users, bootstrap, spaces, packages, events); prefer including the one
// you use.
#pragma once

<<<<<<< HEAD
#include "repo/bootstrap.h"
#include "repo/events.h"
#include "repo/nodes.h"
#include "repo/packages.h"
#include "repo/page.h"
#include "repo/settings.h"
#include "repo/spaces.h"
#include "repo/users.h"
=======
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

// --- cluster_settings: small cluster-wide values (installation id, master key check value) ---
Result<std::optional<std::string>> GetSetting(db::Database& db, const std::string& key);
// Inserts the value unless the key exists; returns the stored value either way.
Result<std::string> PutSettingIfAbsent(db::Transaction& tx, const std::string& key,
                                       const std::string& value);

// --- id_sequences: "<Collection>-<n>" ids ---
Result<int64_t> NextSequenceValue(db::Transaction& tx, const std::string& collection);
Result<std::string> NextId(db::Transaction& tx, const std::string& collection);

// --- server_nodes ---
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
Result<std::optional<NodeRow>> Heartbeat(db::Database& db, const std::string& id);
// Clean shutdown: the node is offline at once.
Result<void> MarkOffline(db::Database& db, const std::string& id);

// Every node, with is_offline computed against `node_timeout_ms` on the database clock.
Result<std::vector<NodeRow>> ListNodes(db::Database& db, int64_t node_timeout_ms);
Result<std::optional<NodeRow>> FindNode(db::Database& db, const std::string& id_or_name,
                                        int64_t node_timeout_ms);
struct NodeUpdate {
  std::optional<int> max_concurrent_tasks;
  std::optional<bool> is_in_maintenance_mode;
  std::string modified_by;
};
Result<std::optional<NodeRow>> UpdateNode(db::Database& db, const std::string& id,
                                          const NodeUpdate& update, int64_t node_timeout_ms);
// Returns false if there was no such node.
Result<bool> DeleteNode(db::Database& db, const std::string& id);

// --- users and API keys ---
struct UserRow {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;
  bool is_service = false;
  bool is_active = true;
};
Result<std::optional<UserRow>> FindUserByName(db::Database& db, const std::string& username);
// The active user owning an API key with this hash (and not expired), if any.
Result<std::optional<UserRow>> FindUserByApiKeyHash(db::Database& db, const std::string& key_hash);
Result<std::string> AddApiKey(db::Transaction& tx, const std::string& user_id,
                              const std::string& key_hash, const std::string& purpose);

// --- first start ---
struct BootstrapResult {
  std::string installation_id;
  bool created_admin = false;  // this call created the admin user (new database)
};
// Seeds a new database, idempotently and safely when several nodes start at once: the
// installation id, the Default space (Spaces-1) with what every space starts with, and the `admin`
// user (Users-1) holding `admin_key_hash`. Only the call that creates the admin reports
// created_admin.
Result<BootstrapResult> Bootstrap(db::Database& db, const std::string& admin_key_hash);

}  // namespace cuttle::repo
>>>>>>> infra-model
