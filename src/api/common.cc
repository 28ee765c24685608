#include "api/common.h"

#include "auth/auth.h"
#include "core/json.h"
#include "core/strings.h"

namespace cuttle::api {

namespace {

std::optional<std::string> ApiKeyOf(const http::Request& req) {
  std::optional<std::string> key = req.Header("X-Octopus-ApiKey");
  if (!key || key->empty()) key = req.Header("X-NuGet-ApiKey");
  if (!key || key->empty()) key = req.Query("apikey");
  return key;
}

}  // namespace

http::Admission Gate(ApiContext& ctx, Access access) {
  switch (access) {
    case Access::kAnonymous:
      return nullptr;
    case Access::kApiKey:
      return [&ctx](http::Request& req) -> std::optional<http::Response> {
        auto user = auth::AuthenticateApiKey(ctx.db, ApiKeyOf(req));
        if (!user) return http::Response::FromError(user.error());
        req.principal = std::move(*user);
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
        req.principal = std::move(*user);
        return std::nullopt;
      };
  }
  CUTTLE_CHECK(false && "unknown access");
  return nullptr;
}

const repo::UserRow& Caller(const http::Request& req) {
  const auto* user = std::any_cast<repo::UserRow>(&req.principal);
  CUTTLE_CHECK(user != nullptr && "a route that reads its caller must declare an access");
  return *user;
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
