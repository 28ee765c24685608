// What the kit (kit.h) and the route table build on: who may call a route and who did, the page
// arithmetic, and reading JSON. Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "core/error.h"
#include "http/http.h"
#include "repo/users.h"

namespace cuttle::api {

using nlohmann::json;

// Who may call a route. Each route of the table declares one, and Gate checks it from the
// request's headers before the server reads any body, so a caller without a key never makes a node
// buffer or store anything. The route's Permission is checked right after, in the same admission
// (kit.h's Gate).
enum class Access {
  kAnonymous,  // ping, /api, NuGet reads, sign-in
  // X-Octopus-ApiKey, X-NuGet-ApiKey or ?apikey=; else the session cookie, whose state-changing
  // calls (any method but GET, HEAD, OPTIONS) must echo its CSRF token in X-Octopus-Csrf-Token
  // (403 if not); otherwise 401
  kApiKey,
  kNuGetKey,  // NuGet writes: X-NuGet-ApiKey; otherwise 403 (a 401 makes nuget.exe prompt)
};

// Who the route's gate authenticated, left in Request::principal.
struct Principal {
  repo::UserRow user;
  std::string session_hash;  // the session a cookie named; empty for an API key
};

// The admission that enforces `access` (none for kAnonymous). On success the caller's Principal
// is left in Request::principal for Caller().
http::Admission Gate(ApiContext& ctx, Access access);

// The user the route's gate authenticated. Only on routes whose access is not kAnonymous.
const repo::UserRow& Caller(const http::Request& req);
// The session the caller signed in with, or "" (an API key, or no gate).
std::string CallerSession(const http::Request& req);

// The value of cookie `name` in the request's Cookie header(s), if any.
std::optional<std::string> RequestCookie(const http::Request& req, std::string_view name);

// Pages needed for `total` items at `per_page` a page (0 when per_page is 0); overflow-safe for
// any take a client sends.
int64_t PageCount(int64_t total, int64_t per_page);

// Parses a JSON object body (through core::ParseJson, so nesting is bounded); 400-shaped error if
// it is not one, saying why.
Result<json> ReadBody(const http::Request& req);

}  // namespace cuttle::api
