#include "repo/users.h"

#include "repo/settings.h"

namespace cuttle::repo {

namespace {

constexpr const char* kUserColumns =
    "u.id, u.username, u.display_name, u.email, u.is_service, u.is_active";

UserRow ReadUser(const db::Row& r) {
  return UserRow{r.GetString("id"),    r.GetString("username"), r.GetString("display_name"),
                 r.GetString("email"), r.GetBool("is_service"), r.GetBool("is_active")};
}

}  // namespace

Result<std::optional<UserRow>> FindUserByName(db::Database& db, const std::string& username) {
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT ") + kUserColumns +
                                     " FROM users u WHERE LOWER(u.username) = LOWER($1)",
                                 {username}));
  if (rs.empty()) return std::optional<UserRow>();
  return std::optional<UserRow>(ReadUser(rs.front()));
}

Result<std::optional<UserRow>> FindUserById(db::Database& db, const std::string& id) {
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT ") + kUserColumns +
                                     " FROM users u WHERE LOWER(u.id) = LOWER($1)",
                                 {id}));
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

}  // namespace cuttle::repo
