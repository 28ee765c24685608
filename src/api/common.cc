#include "api/common.h"

#include <algorithm>

#include "auth/auth.h"
#include "core/strings.h"

namespace cuttle::api {

http::Handler RequireAuth(ApiContext& ctx, AuthedHandler handler) {
  return [&ctx, handler = std::move(handler)](http::Request& req) -> http::Response {
    std::optional<std::string> key = req.Header("X-Octopus-ApiKey");
    if (!key || key->empty()) key = req.Header("X-NuGet-ApiKey");
    if (!key || key->empty()) key = req.Query("apikey");
    auto user = auth::AuthenticateApiKey(ctx.db, key);
    if (!user) return http::Response::FromError(user.error());
    return handler(req, *user);
  };
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

json Collection(const std::string& item_type, const std::string& self_path,
                const std::vector<json>& items, const Paging& paging) {
  int64_t total = static_cast<int64_t>(items.size());
  int64_t begin = std::min(paging.skip, total);
  int64_t end = begin + std::min(paging.take, total - begin);
  json page = json::array();
  for (int64_t i = begin; i < end; ++i) page.push_back(items[static_cast<size_t>(i)]);
  int64_t per_page = paging.take;
  int64_t pages = per_page == 0 ? 0 : (total + per_page - 1) / per_page;
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
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
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
