// Helpers shared by the resource handlers: authentication, paging, JSON binding and errors.
// Stateless; thread-safe.
#pragma once

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

// Who may call a route. Each route of the table declares one, and Gate checks it from the
// request's headers before the server reads any body, so a caller without a key never makes a node
// buffer or store anything. (Issue 10 turns these into the Octopus permission each route needs,
// checked in the same place.)
enum class Access {
  kAnonymous,  // ping, /api, NuGet reads
  kApiKey,     // X-Octopus-ApiKey, X-NuGet-ApiKey or ?apikey=; otherwise 401
  kNuGetKey,   // NuGet writes: X-NuGet-ApiKey; otherwise 403 (a 401 makes nuget.exe prompt)
};

// The admission that enforces `access` (none for kAnonymous). On success the caller's
// repo::UserRow is left in Request::principal for Caller().
http::Admission Gate(ApiContext& ctx, Access access);

// The user the route's gate authenticated. Only on routes whose access is not kAnonymous.
const repo::UserRow& Caller(const http::Request& req);

struct Paging {
  int64_t skip = 0;
  int64_t take = 30;
};
// Reads skip/take (take defaults to 30; huge values such as 2147483647 are fine). Negative or
// non-numeric values are 400.
Result<Paging> ReadPaging(const http::Request& req);

// Pages needed for `total` items at `per_page` a page (0 when per_page is 0); overflow-safe for
// any take a client sends.
int64_t PageCount(int64_t total, int64_t per_page);

// The request's own target for a Links.Self, without the apikey query parameter: a key is never
// reflected into a response.
std::string SelfLink(const http::Request& req);

// Octopus's collection shape over `items` (already filtered): Items, TotalResults, ItemsPerPage,
// NumberOfPages, LastPageNumber, ItemType, Links.
json Collection(const std::string& item_type, const std::string& self_path,
                const std::vector<json>& items, const Paging& paging);

// Parses a JSON object body (through core::ParseJson, so nesting is bounded); 400-shaped error if
// it is not one, saying why.
Result<json> ParseJsonObject(const http::Request& req);
// Finds a property case-insensitively (clients send PascalCase or camelCase).
const json* FindProperty(const json& object, std::string_view name);

// The comma-joined `ids` query parameter, if present.
std::optional<std::vector<std::string>> IdsFilter(const http::Request& req);

// Octopus's common list filters: `ids` (any of, case-insensitive) and `partialName` (contains,
// case-insensitive). True if a resource with this id and name passes both.
bool MatchesListFilters(const http::Request& req, std::string_view id, std::string_view name);

}  // namespace cuttle::api
