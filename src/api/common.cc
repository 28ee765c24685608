#include "api/common.h"

#include <algorithm>

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

Result<Paging> ReadPaging(const http::Request& req) {
  Paging p;
  for (auto [name, target] : {std::pair{"skip", &p.skip}, std::pair{"take", &p.take}}) {
    auto v = req.Query(name);
    if (!v || v->empty()) continue;
    auto n = core::ParseInt(*v);
    if (!n || *n < 0) {
      return Fail(Error::InvalidArgument(std::string("The '") + name +
                                         "' parameter must be a non-negative integer."));
    }
    *target = *n;
  }
  return p;
}

int64_t PageCount(int64_t total, int64_t per_page) {
  if (per_page <= 0 || total <= 0) return 0;
  // Not (total + per_page - 1) / per_page: that overflows for take near INT64_MAX.
  return total / per_page + (total % per_page != 0 ? 1 : 0);
}

std::string SelfLink(const http::Request& req) {
  std::string query;
  for (const auto& pair : core::Split(req.raw_query, '&')) {
    std::string_view name = std::string_view(pair).substr(0, pair.find('='));
    if (core::EqualsIgnoreCase(core::UrlDecode(name, true), "apikey")) continue;
    query += (query.empty() ? "?" : "&") + pair;
  }
  return req.path + query;
}

json Collection(const std::string& item_type, const std::string& self_path,
                const std::vector<json>& items, const Paging& paging) {
  int64_t total = static_cast<int64_t>(items.size());
  int64_t begin = std::min(paging.skip, total);
  int64_t end = begin + std::min(paging.take, total - begin);
  json page = json::array();
  for (int64_t i = begin; i < end; ++i) page.push_back(items[static_cast<size_t>(i)]);
  int64_t per_page = paging.take;
  int64_t pages = PageCount(total, per_page);
  return json{{"ItemType", item_type},
              {"TotalResults", total},
              {"ItemsPerPage", per_page},
              {"NumberOfPages", pages},
              {"LastPageNumber", pages > 0 ? pages - 1 : 0},
              {"Items", std::move(page)},
              {"Links",
               {{"Self", self_path + "?skip=" + std::to_string(paging.skip) +
                             "&take=" + std::to_string(paging.take)},
                {"Template", self_path + "{?skip,take,ids,partialName}"},
                {"Page.All", self_path + "/all"},
                {"Page.Current", self_path + "?skip=" + std::to_string(paging.skip) +
                                     "&take=" + std::to_string(paging.take)}}}};
}

Result<json> ParseJsonObject(const http::Request& req) {
  CUTTLE_TRY(json body, core::ParseJson(req.body));
  if (!body.is_object()) {
    return Fail(Error::InvalidArgument("The request body must be a JSON object."));
  }
  return body;
}

const json* FindProperty(const json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (core::EqualsIgnoreCase(it.key(), name)) return &it.value();
  }
  return nullptr;
}

std::optional<std::vector<std::string>> IdsFilter(const http::Request& req) {
  auto ids = req.Query("ids");
  if (!ids) return std::nullopt;
  return core::Split(*ids, ',');
}

}  // namespace cuttle::api

namespace cuttle::api {

bool MatchesListFilters(const http::Request& req, std::string_view id, std::string_view name) {
  if (auto ids = IdsFilter(req)) {
    bool any = std::any_of(ids->begin(), ids->end(), [&](const std::string& wanted) {
      return core::EqualsIgnoreCase(wanted, id);
    });
    if (!any) return false;
  }
  auto partial = req.Query("partialName");
  return !partial || core::ContainsIgnoreCase(name, *partial);
}

}  // namespace cuttle::api
