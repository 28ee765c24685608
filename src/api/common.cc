#include "api/common.h"

#include "auth/auth.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"

namespace cuttle::api {

namespace {

std::optional<std::string> ApiKeyOf(const http::Request& req) {
  std::optional<std::string> key = req.Header("X-Octopus-ApiKey");
  if (!key || key->empty()) key = req.Header("X-NuGet-ApiKey");
  if (!key || key->empty()) key = req.Query("apikey");
  return key;
}

bool ChangesState(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// A request without an API key, by its session cookie; nullopt when it has none.
std::optional<http::Response> AdmitBySession(ApiContext& ctx, http::Request& req) {
  std::optional<std::string> cookie;
  if (ctx.sessions != nullptr)
    cookie = RequestCookie(req, auth::SessionCookieName(ctx.installation_id));
  if (!cookie || cookie->empty()) {
    return http::Response::FromError(auth::AuthenticateApiKey(ctx.db, std::nullopt).error());
  }
  auto session = auth::AuthenticateSession(ctx.db, *ctx.sessions, *cookie);
  if (!session) return http::Response::FromError(session.error());
  if (ChangesState(req.method)) {
    auto token = req.Header(auth::kCsrfHeader);
    if (!token || !ctx.sessions->CsrfMatches(session->id, *token)) {
      // Neither token goes to the log: the header may hold a valid one of another session.
      CUTTLE_LOG_WARN("refused {} {} by user {}: the CSRF token was {}", req.method, req.path,
                      session->user.username, token ? "not valid" : "missing");
      return http::Response::Error(
          403,
          "The anti-forgery token was not supplied or was not valid: a call made with a "
          "session cookie must send the Octopus-Csrf-Token cookie's value in the "
          "X-Octopus-Csrf-Token header.");
    }
  }
  req.principal = Principal{std::move(session->user), std::move(session->id_hash)};
  return std::nullopt;
}

}  // namespace

std::optional<std::string> RequestCookie(const http::Request& req, std::string_view name) {
  auto header = req.Header("Cookie");
  if (!header) return std::nullopt;
  // Repeated Cookie headers arrive joined by ", "; pairs are separated by ";".
  std::string_view rest = *header;
  while (!rest.empty()) {
    size_t end = rest.find_first_of(";,");
    std::string_view pair = core::Trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || core::Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = core::Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

http::Admission Gate(ApiContext& ctx, Access access) {
  switch (access) {
    case Access::kAnonymous:
      return nullptr;
    case Access::kApiKey:
      return [&ctx](http::Request& req) -> std::optional<http::Response> {
        auto key = ApiKeyOf(req);
        if (!key || key->empty()) return AdmitBySession(ctx, req);
        auto user = auth::AuthenticateApiKey(ctx.db, key);
        if (!user) return http::Response::FromError(user.error());
        req.principal = Principal{std::move(*user), ""};
        return std::nullopt;
      };
    case Access::kNuGetKey:
      return [&ctx](http::Request& req) -> std::optional<http::Response> {
        auto user = auth::AuthenticateApiKey(ctx.db, req.Header("X-NuGet-ApiKey"));
        if (!user) {
          if (user.error().code() != ErrorCode::kUnauthenticated) {
            return http::Response::FromError(user.error());
          }
          return http::Response::Error(403, "The API key is missing or not valid for this feed.");
        }
        req.principal = Principal{std::move(*user), ""};
        return std::nullopt;
      };
  }
  CUTTLE_CHECK(false && "unknown access");
  return nullptr;
}

const repo::UserRow& Caller(const http::Request& req) {
  if (const auto* p = std::any_cast<Principal>(&req.principal)) return p->user;
  // Handler tests leave a bare user.
  const auto* user = std::any_cast<repo::UserRow>(&req.principal);
  CUTTLE_CHECK(user != nullptr && "a route that reads its caller must declare an access");
  return *user;
}

std::string CallerSession(const http::Request& req) {
  const auto* p = std::any_cast<Principal>(&req.principal);
  return p ? p->session_hash : std::string();
}

int64_t PageCount(int64_t total, int64_t per_page) {
  if (per_page <= 0 || total <= 0) return 0;
  // Not (total + per_page - 1) / per_page: that overflows for take near INT64_MAX.
  return total / per_page + (total % per_page != 0 ? 1 : 0);
}

Result<json> ReadBody(const http::Request& req) {
  CUTTLE_TRY(json body, core::ParseJson(req.body));
  if (!body.is_object()) {
    return Fail(Error::InvalidArgument("The request body must be a JSON object."));
  }
  return body;
}

}  // namespace cuttle::api
