// API-key authentication. Keys are stored only as SHA-256 hashes (they are 150+ bits of CSPRNG
// output, so a fast hash is enough; passwords, when they come, use Argon2id). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "db/database.h"
#include "repo/users.h"

namespace cuttle::auth {

std::string HashApiKey(std::string_view key);

// The user owning `key`. A missing, malformed, unknown or expired key is kUnauthenticated with
// Octopus's message.
Result<repo::UserRow> AuthenticateApiKey(db::Database& db, std::optional<std::string_view> key);

// Creates a new API key for `username` and returns it (the only time it is visible).
Result<std::string> CreateApiKey(db::Database& db, const std::string& username,
                                 const std::string& purpose);

}  // namespace cuttle::auth
