#include "auth/sessions.h"

#include <fmt/format.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "repo/events.h"

namespace cuttle::auth {

namespace {

constexpr const char* kInvalidCredentials = "Invalid username or password.";
constexpr const char* kSessionEnded =
    "Your session has ended or is not valid. Please sign in again, or provide a valid API key.";
constexpr std::string_view kPayloadVersion = "s1";
constexpr size_t kSessionIdBytes = 32;

std::string HashSessionId(std::string_view id) { return crypto::Sha256Hex(id); }

Error Locked(int64_t until, int64_t now) {
  int64_t minutes = std::max<int64_t>(1, (until - now + 59'999) / 60'000);
  return Error::InvalidArgument(fmt::format(
      "This user is locked after too many failed sign-in attempts. Please try again in {} "
      "minute{}.",
      minutes, minutes == 1 ? "" : "s"));
}

// Verifying against this when the user does not exist (or has no password) makes a sign-in take
// as long for an unknown name as for a wrong password.
// The audit event of a lockout (Octopus records login bans since 2018, ISS#4163).
Result<void> RecordLockout(db::Database& db, const repo::UserRow& user,
                           const repo::LockoutPolicy& policy) {
  return db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    repo::EventRow e;
    e.category = "LoginBanned";
    e.message =
        fmt::format("User {} was locked for {} minutes after {} failed sign-in attempts in a row.",
                    user.username, policy.lock_ms / 60'000, policy.threshold);
    e.user_id = user.id;
    e.username = user.username;
    e.related_document_ids = {user.id};
    CUTTLE_TRY_VOID(repo::InsertEvent(tx, std::move(e)));
    return {};
  });
}

const std::string& DecoyHash(crypto::PasswordCost cost) {
  static const std::string decoy =
      crypto::HashPassword(crypto::RandomPassword(), cost).value_or("");
  return decoy;
}

}  // namespace

std::string SessionCookieName(std::string_view installation_id) {
  return fmt::format("OctopusIdentificationToken_{}", installation_id);
}

std::string CsrfCookieName(std::string_view installation_id) {
  return fmt::format("Octopus-Csrf-Token_{}", installation_id);
}

Result<void> CheckNewPassword(std::string_view password) {
  if (password.size() < 8) {
    return Fail(Error::InvalidArgument("The password must be at least 8 characters long."));
  }
  if (password.size() > 1024) {
    return Fail(Error::InvalidArgument("The password must be at most 1024 bytes long."));
  }
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) {
      return Fail(Error::InvalidArgument("The password must not contain control characters."));
    }
  }
  return {};
}

Result<SignedIn> SignIn(db::Database& db, const crypto::SessionSeal& seal,
                        std::string_view username, std::string_view password, bool remember_me,
                        const SessionPolicy& policy) {
  CUTTLE_TRY(auto state, repo::FindSignInState(db, std::string(username)));
  if (state && state->locked()) return Fail(Locked(*state->locked_until, state->now));
  bool can_sign_in =
      state && state->user.is_active && !state->user.is_service && !state->password_hash.empty();
  if (!can_sign_in) {
    crypto::VerifyPassword(DecoyHash(policy.password_cost), password);
    return Fail(Error::InvalidArgument(kInvalidCredentials));
  }
  if (!crypto::VerifyPassword(state->password_hash, password)) {
    CUTTLE_TRY(auto locked_until, repo::RecordFailedSignIn(db, state->user.id, policy.lockout));
    if (locked_until) {
      CUTTLE_LOG_WARN("user {} is locked after {} failed sign-ins in a row", state->user.username,
                      policy.lockout.threshold);
      CUTTLE_TRY_VOID(RecordLockout(db, state->user, policy.lockout));
      return Fail(Locked(*locked_until, *locked_until - policy.lockout.lock_ms));
    }
    return Fail(Error::InvalidArgument(kInvalidCredentials));
  }
  CUTTLE_TRY_VOID(repo::ClearFailedSignIns(db, state->user.id));
  // Sessions that ended are swept here rather than by a job: sign-ins are rare and cheap.
  CUTTLE_TRY_VOID(repo::DeleteExpiredSessions(db));
  SignedIn out;
  out.user = state->user;
  out.persistent = remember_me;
  out.ttl_ms = remember_me ? policy.remember_me_ttl_ms : policy.ttl_ms;
  std::string id = crypto::RandomBytes(kSessionIdBytes);
  CUTTLE_TRY_VOID(repo::InsertSession(db, HashSessionId(id), out.user.id, out.ttl_ms));
  out.cookie = seal.Seal(std::string(kPayloadVersion) + id + out.user.id);
  out.csrf_token = seal.CsrfToken(id);
  return out;
}

Result<Session> AuthenticateSession(db::Database& db, const crypto::SessionSeal& seal,
                                    std::string_view cookie) {
  auto plain = seal.Open(cookie);
  if (!plain || plain->size() <= kPayloadVersion.size() + kSessionIdBytes ||
      !plain->starts_with(kPayloadVersion)) {
    return Fail(Error::Unauthenticated(kSessionEnded));
  }
  Session s;
  s.id = plain->substr(kPayloadVersion.size(), kSessionIdBytes);
  std::string user_id = plain->substr(kPayloadVersion.size() + kSessionIdBytes);
  s.id_hash = HashSessionId(s.id);
  CUTTLE_TRY(auto user, repo::FindSessionUser(db, s.id_hash));
  if (!user || user->id != user_id) return Fail(Error::Unauthenticated(kSessionEnded));
  s.user = std::move(*user);
  return s;
}

Result<void> SignOut(db::Database& db, const crypto::SessionSeal& seal, std::string_view cookie) {
  auto session = AuthenticateSession(db, seal, cookie);
  if (!session) {
    if (session.error().code() == ErrorCode::kUnauthenticated) return {};
    return Fail(session.error());
  }
  return repo::DeleteSession(db, session->id_hash);
}

Result<void> SetPassword(db::Database& db, const std::string& user_id, std::string_view password,
                         crypto::PasswordCost cost, const std::string& keep_session_hash) {
  CUTTLE_TRY_VOID(CheckNewPassword(password));
  CUTTLE_TRY(auto hash, crypto::HashPassword(password, cost));
  return db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(repo::SetPasswordHash(tx, user_id, hash));
    CUTTLE_TRY_VOID(repo::DeleteUserSessions(tx, user_id, keep_session_hash));
    return {};
  });
}

}  // namespace cuttle::auth
