// Signing in with a password, and the sessions that follow (DESIGN.md §3.7), on Octopus's HTTP
// contract (reference-octopus-portal-security.md B.1):
//  - the session cookie OctopusIdentificationToken_<installation id> (HttpOnly) holds the session
//    id and user id sealed by crypto::SessionSeal, so any node opens it; the database holds only
//    the SHA-256 of the id (user_sessions), so a sign-out ends it on every node;
//  - the CSRF cookie Octopus-Csrf-Token_<installation id> (readable by scripts) holds the token a
//    cookie-authenticated state-changing call must echo in X-Octopus-Csrf-Token;
//  - failed sign-ins are counted in the database: the tenth in a row locks the user on every node
//    for the policy's lock period (15 minutes by default).
// Stateless functions; thread-safe as the Database is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "crypto/password.h"
#include "crypto/session_seal.h"
#include "db/database.h"
#include "repo/users.h"

namespace cuttle::auth {

inline constexpr std::string_view kCsrfHeader = "X-Octopus-Csrf-Token";
std::string SessionCookieName(std::string_view installation_id);
std::string CsrfCookieName(std::string_view installation_id);

struct SessionPolicy {
  int64_t ttl_ms = 24LL * 3600 * 1000;                   // a browser-session cookie's server life
  int64_t remember_me_ttl_ms = 14LL * 24 * 3600 * 1000;  // RememberMe: a persistent cookie
  repo::LockoutPolicy lockout;
  crypto::PasswordCost password_cost = crypto::PasswordCost::Interactive();
};

// 8 to 1024 bytes, no control characters; kInvalidArgument saying which rule failed.
Result<void> CheckNewPassword(std::string_view password);

struct SignedIn {
  repo::UserRow user;
  std::string cookie;      // the session cookie's value
  std::string csrf_token;  // the CSRF cookie's value
  int64_t ttl_ms = 0;
  bool persistent = false;  // RememberMe: the cookies carry Max-Age
};
// Checks the password and opens a session. A wrong user name or password is kInvalidArgument
// "Invalid username or password."; a locked user (also the failure that locks it) is
// kInvalidArgument saying for how long, whatever the password.
Result<SignedIn> SignIn(db::Database& db, const crypto::SessionSeal& seal,
                        std::string_view username, std::string_view password, bool remember_me,
                        const SessionPolicy& policy);

struct Session {
  repo::UserRow user;
  std::string id;       // raw session id (never logged or stored)
  std::string id_hash;  // what user_sessions holds
};
// The live session a cookie names; kUnauthenticated when the cookie is not valid or the session
// ended (signed out, expired, revoked) or its user is inactive.
Result<Session> AuthenticateSession(db::Database& db, const crypto::SessionSeal& seal,
                                    std::string_view cookie);
// Ends the session a cookie names, if it is valid (an invalid cookie has nothing to end).
Result<void> SignOut(db::Database& db, const crypto::SessionSeal& seal, std::string_view cookie);

// Sets `user_id`'s password (after CheckNewPassword), clears its lockout and ends its sessions
// except `keep_session_hash`.
Result<void> SetPassword(db::Database& db, const std::string& user_id, std::string_view password,
                         crypto::PasswordCost cost, const std::string& keep_session_hash = "");

}  // namespace cuttle::auth
