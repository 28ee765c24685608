// The users aggregate: rows of `users` with their password hashes and failed sign-in counters,
// the API keys (`api_keys`, stored as hashes) and the sign-in sessions (`user_sessions`, stored as
// hashes of their ids) that authenticate them. Stateless; thread-safe as the Database is. All
// time arithmetic uses the database clock (now_ms()), so every node agrees on lockouts and expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct UserRow {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;
  bool is_service = false;
  bool is_active = true;
  bool has_password = false;  // read only: set by SetPasswordHash
};

// By user name, case-insensitively.
Result<std::optional<UserRow>> FindUserByName(db::Database& db, const std::string& username);
// By id, case-insensitively.
Result<std::optional<UserRow>> FindUserById(db::Database& db, const std::string& id);
// The active user owning an API key with this hash (and not expired), if any.
Result<std::optional<UserRow>> FindUserByApiKeyHash(db::Database& db, const std::string& key_hash);

// Username, display name or email contains `filter` (case-insensitively); ordered by username.
Result<Page<UserRow>> ListUsers(db::Database& db, const std::optional<std::string>& filter,
                                const PageQuery& q);
// Inserts `user` (its id is assigned, "Users-N") with `password_hash` (empty: none). A user name
// taken in any case is kAlreadyExists.
Result<UserRow> InsertUser(db::Transaction& tx, UserRow user, const std::string& password_hash);
// Username, display name, email, is_active; false if there is no such user. A user name taken by
// another user in any case is kAlreadyExists.
Result<bool> UpdateUser(db::Transaction& tx, const UserRow& user);
// The user, its API keys and its sessions; false if there was no such user.
Result<bool> DeleteUser(db::Transaction& tx, const std::string& id);
// Sets the hash, clears the failed sign-in count and any lockout.
Result<void> SetPasswordHash(db::Transaction& tx, const std::string& user_id,
                             const std::string& password_hash);

// What a sign-in needs to know about a user, read at the database's `now`.
struct SignInState {
  UserRow user;
  std::string password_hash;  // empty: none
  std::optional<int64_t> locked_until;
  int64_t now = 0;
  bool locked() const { return locked_until && *locked_until > now; }
};
Result<std::optional<SignInState>> FindSignInState(db::Database& db, const std::string& username);

struct LockoutPolicy {
  int threshold = 10;           // this many failures in a row lock the user
  int64_t window_ms = 900'000;  // a failure longer ago than this after the last restarts the count
  int64_t lock_ms = 900'000;    // how long a lockout lasts
};
// Counts a failed sign-in of an unlocked user in one statement (concurrent failures on several
// nodes all count). Returns the lockout's end when this failure reached the threshold.
Result<std::optional<int64_t>> RecordFailedSignIn(db::Database& db, const std::string& user_id,
                                                  const LockoutPolicy& policy);
Result<void> ClearFailedSignIns(db::Database& db, const std::string& user_id);

// --- API keys ---

struct ApiKeyRow {
  std::string id;
  std::string user_id;
  std::string purpose;
  int64_t created_at = 0;
  std::optional<int64_t> expires_at;
};
// Returns the new key's id ("APIKeys-N").
Result<std::string> AddApiKey(db::Transaction& tx, const std::string& user_id,
                              const std::string& key_hash, const std::string& purpose,
                              std::optional<int64_t> expires_at = std::nullopt);
Result<Page<ApiKeyRow>> ListApiKeys(db::Database& db, const std::string& user_id,
                                    const PageQuery& q);
Result<std::optional<ApiKeyRow>> FindApiKey(db::Database& db, const std::string& user_id,
                                            const std::string& key_id);
Result<bool> DeleteApiKey(db::Transaction& tx, const std::string& user_id,
                          const std::string& key_id);

// --- sessions ---

// A new session of `user_id` for `ttl_ms`; returns its expiry (database time).
Result<int64_t> InsertSession(db::Database& db, const std::string& id_hash,
                              const std::string& user_id, int64_t ttl_ms);
// The active user of an unexpired session, if any.
Result<std::optional<UserRow>> FindSessionUser(db::Database& db, const std::string& id_hash);
Result<void> DeleteSession(db::Database& db, const std::string& id_hash);
// Every session of the user except `keep_hash` (empty: all); returns how many ended.
Result<int64_t> DeleteUserSessions(db::Transaction& tx, const std::string& user_id,
                                   const std::string& keep_hash = "");
Result<void> DeleteExpiredSessions(db::Database& db);

}  // namespace cuttle::repo
