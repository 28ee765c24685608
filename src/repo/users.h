// The users aggregate: rows of `users` and the API keys (`api_keys`, stored as hashes) that
// authenticate them. Stateless; thread-safe as the Database is.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

struct UserRow {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;
  bool is_service = false;
  bool is_active = true;
};

// By user name, case-insensitively.
Result<std::optional<UserRow>> FindUserByName(db::Database& db, const std::string& username);
// By id, case-insensitively.
Result<std::optional<UserRow>> FindUserById(db::Database& db, const std::string& id);
// The active user owning an API key with this hash (and not expired), if any.
Result<std::optional<UserRow>> FindUserByApiKeyHash(db::Database& db, const std::string& key_hash);
// Returns the new key's id ("APIKeys-N").
Result<std::string> AddApiKey(db::Transaction& tx, const std::string& user_id,
                              const std::string& key_hash, const std::string& purpose);

}  // namespace cuttle::repo
