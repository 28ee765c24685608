#include "auth/auth.h"

#include "core/ids.h"
#include "crypto/crypto.h"

namespace cuttle::auth {

namespace {
constexpr const char* kLoginRequired =
    "You must be logged in to perform this action. Please provide a valid API key or log in again.";
}

std::string HashApiKey(std::string_view key) { return crypto::Sha256Hex(key); }

Result<repo::UserRow> AuthenticateApiKey(db::Database& db, std::optional<std::string_view> key) {
  if (!key || key->empty() || !core::IsApiKeyFormat(*key)) {
    return Fail(Error::Unauthenticated(kLoginRequired));
  }
  CUTTLE_TRY(auto user, repo::FindUserByApiKeyHash(db, HashApiKey(*key)));
  if (!user) return Fail(Error::Unauthenticated(kLoginRequired));
  return *user;
}

Result<std::string> CreateApiKey(db::Database& db, const std::string& username,
                                 const std::string& purpose) {
  CUTTLE_TRY(auto user, repo::FindUserByName(db, username));
  if (!user) return Fail(Error::NotFound("user", username));
  std::string key = core::NewApiKey();
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(repo::AddApiKey(tx, user->id, HashApiKey(key), purpose));
    return {};
  }));
  return key;
}

}  // namespace cuttle::auth
