#include "repo/users.h"

#include "repo/settings.h"

namespace cuttle::repo {

namespace {

constexpr const char* kUserColumns =
    "u.id, u.username, u.display_name, u.email, u.is_service, u.is_active, "
    "(u.password_hash IS NOT NULL) AS has_password";

UserRow ReadUser(const db::Row& r) {
  return UserRow{r.GetString("id"),        r.GetString("username"), r.GetString("display_name"),
                 r.GetString("email"),     r.GetBool("is_service"), r.GetBool("is_active"),
                 r.GetBool("has_password")};
}

Result<std::optional<UserRow>> FirstUser(Result<db::ResultSet> rs) {
  if (!rs) return Fail(rs.error());
  if (rs->empty()) return std::optional<UserRow>();
  return std::optional<UserRow>(ReadUser(rs->front()));
}

ApiKeyRow ReadApiKey(const db::Row& r) {
  return ApiKeyRow{r.GetString("id"), r.GetString("user_id"), r.GetString("purpose"),
                   r.GetInt("created_at"), r.GetOptionalInt("expires_at")};
}

// kAlreadyExists when another user than `except_id` has `username` in any case.
Result<void> CheckNameFree(db::Transaction& tx, const std::string& username,
                           const std::string& except_id) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT id FROM users WHERE LOWER(username) = LOWER($1) AND "
                                 "id <> $2",
                                 {username, except_id}));
  if (!rs.empty()) {
    return Fail(
        Error::AlreadyExists("A user with the username '" + username + "' already exists."));
  }
  return {};
}

}  // namespace

Result<std::optional<UserRow>> FindUserByName(db::Database& db, const std::string& username) {
  return FirstUser(db.Execute(
      std::string("SELECT ") + kUserColumns + " FROM users u WHERE LOWER(u.username) = LOWER($1)",
      {username}));
}

Result<std::optional<UserRow>> FindUserById(db::Database& db, const std::string& id) {
  return FirstUser(db.Execute(
      std::string("SELECT ") + kUserColumns + " FROM users u WHERE LOWER(u.id) = LOWER($1)", {id}));
}

Result<std::optional<UserRow>> FindUserByApiKeyHash(db::Database& db, const std::string& key_hash) {
  return FirstUser(db.Execute(std::string("SELECT ") + kUserColumns +
                                  " FROM api_keys k JOIN users u ON u.id = k.user_id "
                                  "WHERE k.key_hash = $1 AND u.is_active = $2 AND "
                                  "(k.expires_at IS NULL OR k.expires_at > now_ms())",
                              {key_hash, true}));
}

Result<Page<UserRow>> ListUsers(db::Database& db, const std::optional<std::string>& filter,
                                const PageQuery& q) {
  Where w;
  if (q.ids) w.InIgnoreCase("u.id", *q.ids);
  if (q.partial_name) w.Contains("u.username", *q.partial_name);
  if (filter && !filter->empty()) {
    std::string pattern = "%" + *filter + "%";
    w.AddList(
        "(LOWER(u.username) LIKE LOWER({}) OR LOWER(u.display_name) LIKE LOWER({}) OR "
        "LOWER(u.email) LIKE LOWER({}))",
        {pattern, pattern, pattern});
  }
  return SelectPage<UserRow>(db, kUserColumns, "users u", w, ByteOrder("u.username", true), q,
                             ReadUser);
}

Result<UserRow> InsertUser(db::Transaction& tx, UserRow user, const std::string& password_hash) {
  CUTTLE_TRY_VOID(CheckNameFree(tx, user.username, ""));
  CUTTLE_TRY(user.id, NextId(tx, "Users"));
  db::Value hash = password_hash.empty() ? db::Value() : db::Value(password_hash);
  CUTTLE_TRY_VOID(
      tx.Execute("INSERT INTO users (id, username, display_name, email, is_service, is_active, "
                 "password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now_ms())",
                 {user.id, user.username, user.display_name, user.email, user.is_service,
                  user.is_active, hash}));
  user.has_password = !password_hash.empty();
  return user;
}

Result<bool> UpdateUser(db::Transaction& tx, const UserRow& user) {
  CUTTLE_TRY_VOID(CheckNameFree(tx, user.username, user.id));
  CUTTLE_TRY(auto rs,
             tx.Execute("UPDATE users SET username = $2, display_name = $3, email = $4, "
                        "is_active = $5 WHERE id = $1",
                        {user.id, user.username, user.display_name, user.email, user.is_active}));
  return rs.affected > 0;
}

Result<bool> DeleteUser(db::Transaction& tx, const std::string& id) {
  // Not left to ON DELETE CASCADE: SQLite enforces it only with foreign_keys on.
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM api_keys WHERE user_id = $1", {id}));
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM user_sessions WHERE user_id = $1", {id}));
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM users WHERE id = $1", {id}));
  return rs.affected > 0;
}

Result<void> SetPasswordHash(db::Transaction& tx, const std::string& user_id,
                             const std::string& password_hash) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE users SET password_hash = $2, failed_logins = 0, "
                                 "last_failed_login = NULL, locked_until = NULL WHERE id = $1",
                                 {user_id, password_hash}));
  if (rs.affected == 0) return Fail(Error::NotFound("user", user_id));
  return {};
}

Result<std::optional<SignInState>> FindSignInState(db::Database& db, const std::string& username) {
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT ") + kUserColumns +
                                     ", u.password_hash, u.locked_until, now_ms() AS now "
                                     "FROM users u WHERE LOWER(u.username) = LOWER($1)",
                                 {username}));
  if (rs.empty()) return std::optional<SignInState>();
  const auto& r = rs.front();
  SignInState s;
  s.user = ReadUser(r);
  s.password_hash = r.GetString("password_hash");
  s.locked_until = r.GetOptionalInt("locked_until");
  s.now = r.GetInt("now");
  return std::optional<SignInState>(std::move(s));
}

Result<std::optional<int64_t>> RecordFailedSignIn(db::Database& db, const std::string& user_id,
                                                  const LockoutPolicy& policy) {
  // One statement, so failures on several nodes at once all count. A user still locked is not
  // counted (the lock does not grow); a failure after an ended lock, or longer than the window
  // after the last one, starts the count again at 1. Right-hand sides read the old values.
  CUTTLE_TRY(auto rs,
             db.Execute("UPDATE users SET "
                        "failed_logins = CASE WHEN locked_until IS NOT NULL OR "
                        "  last_failed_login IS NULL OR last_failed_login < now_ms() - $2 "
                        "  THEN 1 ELSE failed_logins + 1 END, "
                        "locked_until = CASE WHEN locked_until IS NULL AND "
                        "  last_failed_login >= now_ms() - $2 AND failed_logins + 1 >= $3 "
                        "  THEN now_ms() + $4 ELSE NULL END, "
                        "last_failed_login = now_ms() "
                        "WHERE id = $1 AND (locked_until IS NULL OR locked_until <= now_ms()) "
                        "RETURNING locked_until",
                        {user_id, policy.window_ms, int64_t{policy.threshold}, policy.lock_ms}));
  if (rs.empty()) return std::optional<int64_t>();
  return rs.front().GetOptionalInt("locked_until");
}

Result<void> ClearFailedSignIns(db::Database& db, const std::string& user_id) {
  CUTTLE_TRY_VOID(
      db.Execute("UPDATE users SET failed_logins = 0, last_failed_login = NULL, "
                 "locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR "
                 "locked_until IS NOT NULL)",
                 {user_id}));
  return {};
}

Result<std::string> AddApiKey(db::Transaction& tx, const std::string& user_id,
                              const std::string& key_hash, const std::string& purpose,
                              std::optional<int64_t> expires_at) {
  CUTTLE_TRY(auto id, NextId(tx, "APIKeys"));
  db::Value expires = expires_at ? db::Value(*expires_at) : db::Value();
  CUTTLE_TRY_VOID(
      tx.Execute("INSERT INTO api_keys (id, user_id, purpose, key_hash, created_at, expires_at) "
                 "VALUES ($1, $2, $3, $4, now_ms(), $5)",
                 {id, user_id, purpose, key_hash, expires}));
  return id;
}

Result<Page<ApiKeyRow>> ListApiKeys(db::Database& db, const std::string& user_id,
                                    const PageQuery& q) {
  Where w;
  w.Add("user_id = {}", user_id);
  if (q.ids) w.InIgnoreCase("id", *q.ids);
  return SelectPage<ApiKeyRow>(db, "id, user_id, purpose, created_at, expires_at", "api_keys", w,
                               "created_at, id", q, ReadApiKey);
}

Result<std::optional<ApiKeyRow>> FindApiKey(db::Database& db, const std::string& user_id,
                                            const std::string& key_id) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT id, user_id, purpose, created_at, expires_at FROM "
                                 "api_keys WHERE user_id = $1 AND LOWER(id) = LOWER($2)",
                                 {user_id, key_id}));
  if (rs.empty()) return std::optional<ApiKeyRow>();
  return std::optional<ApiKeyRow>(ReadApiKey(rs.front()));
}

Result<bool> DeleteApiKey(db::Transaction& tx, const std::string& user_id,
                          const std::string& key_id) {
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM api_keys WHERE user_id = $1 AND LOWER(id) = "
                                 "LOWER($2)",
                                 {user_id, key_id}));
  return rs.affected > 0;
}

Result<int64_t> InsertSession(db::Database& db, const std::string& id_hash,
                              const std::string& user_id, int64_t ttl_ms) {
  CUTTLE_TRY(auto rs, db.Execute("INSERT INTO user_sessions (id_hash, user_id, created_at, "
                                 "expires_at) VALUES ($1, $2, now_ms(), now_ms() + $3) "
                                 "RETURNING expires_at",
                                 {id_hash, user_id, ttl_ms}));
  return rs.front().GetInt("expires_at");
}

Result<std::optional<UserRow>> FindSessionUser(db::Database& db, const std::string& id_hash) {
  return FirstUser(db.Execute(std::string("SELECT ") + kUserColumns +
                                  " FROM user_sessions s JOIN users u ON u.id = s.user_id "
                                  "WHERE s.id_hash = $1 AND s.expires_at > now_ms() AND "
                                  "u.is_active = $2",
                              {id_hash, true}));
}

Result<void> DeleteSession(db::Database& db, const std::string& id_hash) {
  CUTTLE_TRY_VOID(db.Execute("DELETE FROM user_sessions WHERE id_hash = $1", {id_hash}));
  return {};
}

Result<int64_t> DeleteUserSessions(db::Transaction& tx, const std::string& user_id,
                                   const std::string& keep_hash) {
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM user_sessions WHERE user_id = $1 AND id_hash <> $2",
                                 {user_id, keep_hash}));
  return rs.affected;
}

Result<void> DeleteExpiredSessions(db::Database& db) {
  CUTTLE_TRY_VOID(db.Execute("DELETE FROM user_sessions WHERE expires_at <= now_ms()"));
  return {};
}

}  // namespace cuttle::repo
