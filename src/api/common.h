// Helpers shared by the resource handlers: authentication, paging, JSON binding and errors.
// Stateless; thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "core/error.h"
#include "http/http.h"
#include "repo/repo.h"

namespace cuttle::api {

using nlohmann::json;

// A handler that needs an authenticated caller.
using AuthedHandler = std::function<http::Response(http::Request&, const repo::UserRow&)>;

// Wraps `handler` so it runs only for a valid API key (X-Octopus-ApiKey header, X-NuGet-ApiKey,
// or the apikey query parameter); otherwise 401 with Octopus's error.
http::Handler RequireAuth(ApiContext& ctx, AuthedHandler handler);

struct Paging {
  int64_t skip = 0;
  int64_t take = 30;
};
// Reads skip/take (take defaults to 30; huge values such as 2147483647 are fine). Negative or
// non-numeric values are 400.
Result<Paging> ReadPaging(const http::Request& req);

// Octopus's collection shape over `items` (already filtered): Items, TotalResults, ItemsPerPage,
// NumberOfPages, LastPageNumber, ItemType, Links.
json Collection(const std::string& item_type, const std::string& self_path,
                const std::vector<json>& items, const Paging& paging);

// Parses a JSON object body; 400-shaped error if it is not one.
Result<json> ParseJsonObject(const http::Request& req);
// Finds a property case-insensitively (clients send PascalCase or camelCase).
const json* FindProperty(const json& object, std::string_view name);

// The comma-joined `ids` query parameter, if present.
std::optional<std::vector<std::string>> IdsFilter(const http::Request& req);

// Octopus's common list filters: `ids` (any of, case-insensitive) and `partialName` (contains,
// case-insensitive). True if a resource with this id and name passes both.
bool MatchesListFilters(const http::Request& req, std::string_view id, std::string_view name);

}  // namespace cuttle::api
