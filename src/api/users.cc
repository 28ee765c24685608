// Users and sign-in: /api/users (CRUD, me, change password, revoke sessions, API keys) and
// /api/users/login|logout on Octopus's contract (auth/sessions.h says how sessions work).
#include "api/handlers.h"
#include "api/kit.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "core/strings.h"

namespace cuttle::api {

namespace {

// Secure when the client reached us over HTTPS (a TLS-terminating balancer says so, or the
// sign-in's State.UsingSecureConnection does).
bool AppearsHttps(const http::Request& req, bool client_says_https) {
  auto proto = req.Header("X-Forwarded-Proto");
  return client_says_https || (proto && core::EqualsIgnoreCase(core::Trim(*proto), "https"));
}

std::string CookieAttributes(bool http_only, bool secure, std::optional<int64_t> max_age_s) {
  std::string a = "; Path=/; SameSite=Lax";
  if (http_only) a += "; HttpOnly";
  if (secure) a += "; Secure";
  if (max_age_s) a += "; Max-Age=" + std::to_string(*max_age_s);
  return a;
}

void SetSessionCookies(ApiContext& ctx, http::Response& r, const auth::SignedIn& s, bool secure) {
  std::optional<int64_t> max_age;
  if (s.persistent) max_age = s.ttl_ms / 1000;
  r.headers.emplace_back("Set-Cookie", auth::SessionCookieName(ctx.installation_id) + "=" +
                                           s.cookie + CookieAttributes(true, secure, max_age));
  r.headers.emplace_back("Set-Cookie", auth::CsrfCookieName(ctx.installation_id) + "=" +
                                           s.csrf_token + CookieAttributes(false, secure, max_age));
}

void ClearSessionCookies(ApiContext& ctx, http::Response& r, bool secure) {
  const std::string expired = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  r.headers.emplace_back("Set-Cookie", auth::SessionCookieName(ctx.installation_id) + "=" +
                                           CookieAttributes(true, secure, 0) + expired);
  r.headers.emplace_back("Set-Cookie", auth::CsrfCookieName(ctx.installation_id) + "=" +
                                           CookieAttributes(false, secure, 0) + expired);
}

Result<repo::UserRow> FindUserOr404(ApiContext& ctx, const std::string& id) {
  CUTTLE_TRY(auto user, repo::FindUserById(ctx.db, id));
  if (!user) return Fail(Error::NotFound("user", id));
  return std::move(*user);
}

json ApiKeyJson(const repo::ApiKeyRow& k) {
  return {{"Id", k.id},
          {"Purpose", k.purpose},
          {"UserId", k.user_id},
          {"ApiKey", {{"HasValue", true}, {"NewValue", nullptr}}},
          {"Created", core::FormatIso8601(k.created_at)},
          {"Expires", k.expires_at ? json(core::FormatIso8601(*k.expires_at)) : json(nullptr)},
          {"Links", {{"Self", "/api/users/" + k.user_id + "/apikeys/" + k.id}}}};
}

// Username, DisplayName, EmailAddress, IsActive (and IsService on create) over `user`.
void BindUser(Binder& b, bool create, repo::UserRow& user) {
  if (create || b.Find("Username") != nullptr) user.username = b.RequiredString("Username");
  if (b.Has("DisplayName")) user.display_name = b.String("DisplayName");
  if (user.display_name.empty()) user.display_name = user.username;
  if (b.Has("EmailAddress")) user.email = b.String("EmailAddress");
  user.is_active = b.Bool("IsActive", user.is_active);
  if (create) user.is_service = b.Bool("IsService", false);
  if (user.username.size() > 200) b.Problem("The Username field must be at most 200 characters.");
}

// The body's Password, checked; nullopt when absent or null.
std::optional<std::string> BindPassword(Binder& b, const repo::UserRow& user) {
  auto password = b.Find("Password");
  if (password == nullptr || password->is_null()) return std::nullopt;
  if (!password->is_string()) {
    b.Problem("The Password field must be a string.");
    return std::nullopt;
  }
  std::string p = password->get<std::string>();
  if (user.is_service) b.Problem("A service account cannot have a password.");
  if (auto ok = auth::CheckNewPassword(p); !ok) b.Problem(ok.error().message());
  return p;
}

}  // namespace

json UserJson(const repo::UserRow& user, bool is_requestor) {
  const std::string self = "/api/users/" + user.id;
  return {{"Id", user.id},
          {"Username", user.username},
          {"DisplayName", user.display_name},
          {"EmailAddress", user.email},
          {"IsActive", user.is_active},
          {"IsService", user.is_service},
          {"IsRequestor", is_requestor},
          {"CanPasswordBeEdited", !user.is_service},
          {"Identities", json::array()},
          {"Links",
           {{"Self", self},
            {"ApiKeys", self + "/apikeys{/id}{?skip,take}"},
            {"ChangePassword", self + "/changepassword"},
            {"RevokeSessions", self + "/revokesessions"}}}};
}

Result<http::Response> GetCurrentUser(ApiContext&, http::Request& req) {
  return http::Response::Json(200, UserJson(Caller(req), true));
}

// --- sign-in ---

// What the portal's sign-in page asks before anyone signs in (Octopus's AuthenticationResource):
// one provider, user name and password.
Result<http::Response> GetAuthentication(ApiContext&, http::Request&) {
  json provider = {{"Name", "Octopus"},
                   {"IdentityType", "UsernamePassword"},
                   {"FormsLoginEnabled", true},
                   {"CSSLinks", json::array()},
                   {"JavascriptLinks", json::array()},
                   {"Links", json::object()}};
  return http::Response::Json(200, {{"Id", "authentication"},
                                    {"AnyAuthenticationProvidersSupportPasswordManagement", true},
                                    {"AuthenticationProviders", json::array({provider})},
                                    {"AutoLoginEnabled", false},
                                    {"Links", {{"Self", "/api/authentication"}}}});
}

Result<http::Response> SignIn(ApiContext& ctx, http::Request& req) {
  if (ctx.sessions == nullptr)
    return Fail(Error::Unavailable("sign-in is not set up on this node"));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  std::string username = b.RequiredString("Username");
  const json* password = b.Find("Password");
  if (password == nullptr || !password->is_string() || password->get<std::string>().empty()) {
    b.Problem("The Password field is required.");
  }
  bool remember_me = b.Bool("RememberMe", false);
  json state = b.Object("State");
  bool client_https = state.is_object() && state.value("UsingSecureConnection", false) == true;
  CUTTLE_TRY_VOID(b.Finish("sign-in"));
  CUTTLE_TRY(auto signed_in,
             auth::SignIn(ctx.db, *ctx.sessions, username, password->get<std::string>(),
                          remember_me, ctx.session_policy));
  auto r = http::Response::Json(200, UserJson(signed_in.user, true));
  SetSessionCookies(ctx, r, signed_in, AppearsHttps(req, client_https));
  return r;
}

// Ends the cookie's session on every node and clears both cookies. A cookie whose session is live
// needs its CSRF token, like any state-changing call made with it; one that is not live (already
// signed out, expired, altered) has nothing to end, and the cookies are cleared all the same.
Result<http::Response> SignOut(ApiContext& ctx, http::Request& req) {
  std::optional<std::string> cookie;
  if (ctx.sessions != nullptr) {
    cookie = RequestCookie(req, auth::SessionCookieName(ctx.installation_id));
  }
  if (cookie && !cookie->empty()) {
    auto session = auth::AuthenticateSession(ctx.db, *ctx.sessions, *cookie);
    if (session) {
      auto token = req.Header(auth::kCsrfHeader);
      if (!token || !ctx.sessions->CsrfMatches(session->id, *token)) {
        return Fail(Error::PermissionDenied(
            "The anti-forgery token was not supplied or was not valid: send the Octopus-Csrf-Token "
            "cookie's value in the X-Octopus-Csrf-Token header."));
      }
      CUTTLE_TRY_VOID(repo::DeleteSession(ctx.db, session->id_hash));
    } else if (session.error().code() != ErrorCode::kUnauthenticated) {
      return Fail(session.error());
    }
  }
  auto r = http::Response::Json(200, json::object());
  ClearSessionCookies(ctx, r, AppearsHttps(req, false));
  return r;
}

// --- users ---

Result<http::Response> ListUsers(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListUsers(ctx.db, req.Query("filter"), q));
  const std::string me = Caller(req).id;
  return ListResponse<repo::UserRow>(
      "User", req, page, q, [&](const repo::UserRow& u) { return UserJson(u, u.id == me); });
}

Result<http::Response> GetUser(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  return http::Response::Json(200, UserJson(user, user.id == Caller(req).id));
}

Result<http::Response> CreateUser(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  repo::UserRow user;
  BindUser(b, true, user);
  auto password = BindPassword(b, user);
  CUTTLE_TRY_VOID(b.Finish("user"));
  std::string hash;
  if (password) {
    CUTTLE_TRY(hash, crypto::HashPassword(*password, ctx.session_policy.password_cost));
  }
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(user, repo::InsertUser(tx, user, hash));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, "", "Created", "User " + user.username + " was created.", {user.id}));
    return {};
  }));
  return http::Response::Json(201, UserJson(user, false));
}

Result<http::Response> ModifyUser(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  BindUser(b, false, user);
  auto password = BindPassword(b, user);
  const bool is_me = user.id == Caller(req).id;
  if (is_me && !user.is_active) b.Problem("You cannot deactivate your own account.");
  CUTTLE_TRY_VOID(b.Finish("user"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool updated, repo::UpdateUser(tx, user));
    if (!updated) return Fail(Error::NotFound("user", user.id));
    // A deactivated user's sessions end now, not when its cookies expire.
    if (!user.is_active) CUTTLE_TRY_VOID(repo::DeleteUserSessions(tx, user.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, "", "Modified", "User " + user.username + " was modified.",
                                {user.id}));
    return {};
  }));
  if (password) {
    CUTTLE_TRY_VOID(auth::SetPassword(ctx.db, user.id, *password, ctx.session_policy.password_cost,
                                      CallerSession(req)));
  }
  CUTTLE_TRY(user, FindUserOr404(ctx, user.id));
  return http::Response::Json(200, UserJson(user, is_me));
}

Result<http::Response> DeleteUser(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  if (user.id == Caller(req).id) {
    return Fail(Error::Conflict("You cannot delete your own account."));
  }
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteUser(tx, user.id));
    if (!deleted) return Fail(Error::NotFound("user", user.id));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, "", "Deleted", "User " + user.username + " was deleted.", {user.id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

// {OldPassword, NewPassword}: OldPassword is required when the caller changes its own password.
// Every other session of the user ends; the caller's own stays signed in.
Result<http::Response> ChangePassword(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  std::string next = b.String("NewPassword");
  if (next.empty()) b.Problem("The NewPassword field is required.");
  if (b.Has("ConfirmPassword") && b.String("ConfirmPassword") != next) {
    b.Problem("The NewPassword and ConfirmPassword fields do not match.");
  }
  if (user.is_service) b.Problem("A service account cannot have a password.");
  if (!next.empty()) {
    if (auto ok = auth::CheckNewPassword(next); !ok) b.Problem(ok.error().message());
  }
  const bool is_me = user.id == Caller(req).id;
  std::string old = b.String("OldPassword");
  if (is_me && old.empty()) b.Problem("The OldPassword field is required.");
  CUTTLE_TRY_VOID(b.Finish("password"));
  if (is_me) {
    CUTTLE_TRY(auto state, repo::FindSignInState(ctx.db, user.username));
    if (!state || !crypto::VerifyPassword(state->password_hash, old)) {
      return Fail(
          Error::Invalid("The password could not be saved.", {"The OldPassword is not correct."}));
    }
  }
  CUTTLE_TRY_VOID(auth::SetPassword(ctx.db, user.id, next, ctx.session_policy.password_cost,
                                    CallerSession(req)));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(RecordEvent(tx, req, "", "Modified",
                                "The password of user " + user.username + " was changed.",
                                {user.id}));
    return {};
  }));
  return http::Response::Json(200, UserJson(user, is_me));
}

// Ends every session of the user (the caller's own too when it is the user).
Result<http::Response> RevokeUserSessions(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(repo::DeleteUserSessions(tx, user.id));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

// --- API keys ---

Result<http::Response> ListUserApiKeys(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListApiKeys(ctx.db, user.id, q));
  return ListResponse<repo::ApiKeyRow>("ApiKey", req, page, q, ApiKeyJson);
}

Result<http::Response> GetUserApiKey(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  CUTTLE_TRY(auto key, repo::FindApiKey(ctx.db, user.id, req.Param("keyId")));
  if (!key) return Fail(Error::NotFound("API key", req.Param("keyId")));
  return http::Response::Json(200, ApiKeyJson(*key));
}

// {Purpose, Expires?}: the new key is in the answer (ApiKeyCreatedResource) and nowhere else.
Result<http::Response> CreateUserApiKey(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  std::string purpose = b.String("Purpose");
  std::optional<int64_t> expires;
  if (auto text = b.OptionalString("Expires"); text && !text->empty()) {
    expires = core::ParseIso8601(*text);
    if (!expires) b.Problem("The Expires field must be an ISO 8601 date and time.");
  }
  if (expires) {
    CUTTLE_TRY(auto now, ctx.db.Execute("SELECT now_ms() AS now"));
    if (*expires <= now.front().GetInt("now"))
      b.Problem("The Expires field must be in the future.");
  }
  CUTTLE_TRY_VOID(b.Finish("API key"));
  std::string key = core::NewApiKey();
  std::string id;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(id, repo::AddApiKey(tx, user.id, auth::HashApiKey(key), purpose, expires));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, "", "Created",
                                "An API key was created for user " + user.username + ".",
                                {user.id, id}));
    return {};
  }));
  CUTTLE_TRY(auto row, repo::FindApiKey(ctx.db, user.id, id));
  if (!row) return Fail(Error::Internal("a new API key could not be read back"));
  json out = ApiKeyJson(*row);
  out["ApiKey"] = key;
  return http::Response::Json(201, out);
}

Result<http::Response> DeleteUserApiKey(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto user, FindUserOr404(ctx, req.Param("id")));
  const std::string& key_id = req.Param("keyId");
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteApiKey(tx, user.id, key_id));
    if (!deleted) return Fail(Error::NotFound("API key", key_id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, "", "Deleted",
                                "An API key of user " + user.username + " was revoked.",
                                {user.id, key_id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
