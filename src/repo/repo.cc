#include "repo/repo.h"

#include "core/ids.h"
#include "repo/spaces.h"

namespace cuttle::repo {

namespace {
using db::Params;
using db::Row;

constexpr const char* kNodeColumns =
    "n.id, n.name, n.max_concurrent_tasks, n.is_in_maintenance_mode, n.last_seen, n.started_at, "
    "n.version, n.schema_version, n.lease_epoch, n.last_modified_on, n.last_modified_by";
// The same columns unqualified, for RETURNING clauses.
constexpr const char* kNodeReturning =
    "id, name, max_concurrent_tasks, is_in_maintenance_mode, last_seen, started_at, version, "
    "schema_version, lease_epoch, last_modified_on, last_modified_by";

NodeRow ReadNode(const Row& r) {
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

// Adds the liveness columns computed on the database clock.
std::string NodeQuery(const std::string& where) {
  return std::string("SELECT ") + kNodeColumns +
         ", CASE WHEN n.is_offline_marked OR now_ms() - n.last_seen > $1 THEN 1 ELSE 0 END "
         "AS is_offline, "
         "(SELECT COUNT(*) FROM server_tasks t WHERE t.server_node = n.name AND t.state IN "
         "('Executing', 'Cancelling')) AS running_task_count "
         "FROM server_nodes n " +
         where + " ORDER BY n.name";
}

NodeRow ReadNodeWithStatus(const Row& r) {
  NodeRow n = ReadNode(r);
  n.is_offline = r.GetBool("is_offline");
  n.running_task_count = r.GetInt("running_task_count");
  return n;
}

UserRow ReadUser(const Row& r) {
  return UserRow{r.GetString("id"),    r.GetString("username"), r.GetString("display_name"),
                 r.GetString("email"), r.GetBool("is_service"), r.GetBool("is_active")};
}

constexpr const char* kUserColumns =
    "u.id, u.username, u.display_name, u.email, u.is_service, u.is_active";
}  // namespace

Result<std::optional<std::string>> GetSetting(db::Database& db, const std::string& key) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT value FROM cluster_settings WHERE key = $1", {key}));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<std::string> PutSettingIfAbsent(db::Transaction& tx, const std::string& key,
                                       const std::string& value) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO cluster_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
      {key, value}));
  CUTTLE_TRY(auto rs, tx.Execute("SELECT value FROM cluster_settings WHERE key = $1", {key}));
  if (rs.empty()) return Fail(Error::Internal("setting vanished after insert: " + key));
  return rs.front().GetString(0);
}

Result<int64_t> NextSequenceValue(db::Transaction& tx, const std::string& collection) {
  CUTTLE_TRY(auto rs, tx.Execute("INSERT INTO id_sequences (name, value) VALUES ($1, 1) "
                                 "ON CONFLICT (name) DO UPDATE SET value = id_sequences.value + 1 "
                                 "RETURNING value",
                                 {collection}));
  return rs.front().GetInt(0);
}

Result<std::string> NextId(db::Transaction& tx, const std::string& collection) {
  CUTTLE_TRY(auto n, NextSequenceValue(tx, collection));
  return core::MakeId(collection, n);
}

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
  CUTTLE_TRY(auto rs, db.Execute(std::string("UPDATE server_nodes SET last_seen = now_ms(), "
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

Result<std::vector<NodeRow>> ListNodes(db::Database& db, int64_t node_timeout_ms) {
  CUTTLE_TRY(auto rs, db.Execute(NodeQuery(""), {node_timeout_ms}));
  std::vector<NodeRow> out;
  for (const auto& r : rs.rows) out.push_back(ReadNodeWithStatus(r));
  return out;
}

Result<std::optional<NodeRow>> FindNode(db::Database& db, const std::string& id_or_name,
                                        int64_t node_timeout_ms) {
  CUTTLE_TRY(auto rs, db.Execute(NodeQuery("WHERE LOWER(n.id) = LOWER($2) OR n.name = $2"),
                                 {node_timeout_ms, id_or_name}));
  if (rs.empty()) return std::optional<NodeRow>();
  return std::optional<NodeRow>(ReadNodeWithStatus(rs.front()));
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

Result<std::optional<UserRow>> FindUserByName(db::Database& db, const std::string& username) {
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT ") + kUserColumns +
                                     " FROM users u WHERE LOWER(u.username) = LOWER($1)",
                                 {username}));
  if (rs.empty()) return std::optional<UserRow>();
  return std::optional<UserRow>(ReadUser(rs.front()));
}

Result<std::optional<UserRow>> FindUserByApiKeyHash(db::Database& db, const std::string& key_hash) {
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT ") + kUserColumns +
                                     " FROM api_keys k JOIN users u ON u.id = k.user_id "
                                     "WHERE k.key_hash = $1 AND u.is_active = $2 AND "
                                     "(k.expires_at IS NULL OR k.expires_at > now_ms())",
                                 {key_hash, true}));
  if (rs.empty()) return std::optional<UserRow>();
  return std::optional<UserRow>(ReadUser(rs.front()));
}

Result<std::string> AddApiKey(db::Transaction& tx, const std::string& user_id,
                              const std::string& key_hash, const std::string& purpose) {
  CUTTLE_TRY(auto id, NextId(tx, "APIKeys"));
  CUTTLE_TRY_VOID(
      tx.Execute("INSERT INTO api_keys (id, user_id, purpose, key_hash, created_at) "
                 "VALUES ($1, $2, $3, $4, now_ms())",
                 {id, user_id, purpose, key_hash}));
  return id;
}

Result<BootstrapResult> Bootstrap(db::Database& db, const std::string& admin_key_hash) {
  BootstrapResult result;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    result = {};
    CUTTLE_TRY(result.installation_id, PutSettingIfAbsent(tx, "installation_id", core::NewUuid()));
    // Fixed ids for the seeds; the sequences start after them so later ids never collide.
    CUTTLE_TRY(auto space,
               tx.Execute("INSERT INTO spaces (id, name, slug, description, is_default) VALUES "
                          "('Spaces-1', 'Default', 'default', 'The default space', $1) "
                          "ON CONFLICT DO NOTHING RETURNING id",
                          {true}));
    // Only with the space itself, so a default the user deleted later is not brought back. (A
    // database that had Spaces-1 before its defaults existed got them from migration 0006.)
    if (!space.empty()) {
      CUTTLE_TRY_VOID(CreateSpaceDefaults(tx, "Spaces-1"));
    }
    CUTTLE_TRY_VOID(
        tx.Execute("INSERT INTO id_sequences (name, value) VALUES ('Spaces', 1), ('Users', 1) "
                   "ON CONFLICT (name) DO NOTHING"));
    CUTTLE_TRY(auto inserted,
               tx.Execute("INSERT INTO users (id, username, display_name, created_at) VALUES "
                          "('Users-1', 'admin', 'Administrator', now_ms()) "
                          "ON CONFLICT DO NOTHING RETURNING id"));
    if (!inserted.empty()) {
      CUTTLE_TRY_VOID(AddApiKey(tx, "Users-1", admin_key_hash, "Bootstrap"));
      result.created_admin = true;
    }
    return {};
  }));
  return result;
}

}  // namespace cuttle::repo
