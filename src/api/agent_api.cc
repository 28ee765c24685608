// The agent protocol's routes (docs/agent.md), /api/agent/v1: registration with an API key, and
// the signed routes, which agents::AgentService authenticates itself (the signature covers the
// body, so it is checked once the body is read).
#include <fmt/format.h>

#include "agents/service.h"
#include "agentwire/wire.h"
#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"

namespace cuttle::api {

namespace {

Result<http::Response> RegisterAgent(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto body, ReadBody(req));
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const repo::UserRow& user = Caller(req);
  CUTTLE_TRY(auto reg, ctx.agents->Register(body, space, {user.id, user.username}));
  return http::Response::Json(reg.created ? 201 : 200, reg.body);
}

}  // namespace

void AddAgentRoutes(ApiContext& ctx, http::Router& router) {
  if (ctx.agents == nullptr) return;
  agents::AgentService& s = *ctx.agents;
  using Method = http::Response (agents::AgentService::*)(http::Request&);
  struct Signed {
    const char* method;
    const char* path;
    Method handler;
    uint64_t max_body;
  };
  constexpr uint64_t kSmall = 64 * 1024;
  // clang-format off
  const Signed routes[] = {
    {"GET",    "/poll",                               &agents::AgentService::Poll,       0},
    {"POST",   "/commands/{id}/claim",                &agents::AgentService::Claim,      kSmall},
    {"PUT",    "/commands/{id}/log/{seq}",            &agents::AgentService::PutLog,     agentwire::kMaxChunkBytes},
    {"POST",   "/commands/{id}/heartbeat",            &agents::AgentService::Heartbeat,  kSmall},
    {"PUT",    "/commands/{id}/result",               &agents::AgentService::PutResult,  4 * 1024 * 1024},
    {"PUT",    "/commands/{id}/artifacts/{n}",        &agents::AgentService::PutArtifact, agentwire::kMaxArtifactBytes},
    {"GET",    "/commands/{id}/artifacts/{n}",        &agents::AgentService::GetArtifact, 0},
    {"GET",    "/packages/{spaceId}/{packageId}/{version}", &agents::AgentService::GetPackage, 0},
    {"GET",    "/me",                                 &agents::AgentService::GetMe,      0},
    {"DELETE", "/me",                                 &agents::AgentService::DeleteMe,   0},
  };
  // clang-format on
  const std::string prefix(agentwire::kApiPrefix);
  for (const auto& r : routes) {
    router.Add(r.method, prefix + r.path,
               [&s, h = r.handler](http::Request& req) {
                 // PostgreSQL refuses a text parameter that is not UTF-8 (a 500): a path segment
                 // that is not names no command or package.
                 for (const auto& [name, value] : req.params) {
                   if (!core::IsValidUtf8(value)) {
                     return http::Response::Error(
                         404, fmt::format("The {} in the path is not valid UTF-8.", name));
                   }
                 }
                 return (s.*h)(req);
               },
               {.max_body_bytes = r.max_body, .stream_body = false, .admit = {}, .probe = false});
  }
  router.Add("POST", prefix + "/register",
             [&ctx](http::Request& req) {
               auto r = RegisterAgent(ctx, req);
               return r ? std::move(*r) : http::Response::FromError(r.error());
             },
             {.max_body_bytes = kSmall,
              .stream_body = false,
              .admit = Gate(ctx, Access::kApiKey, Permission::kMachineCreate),
              .probe = false});
}

}  // namespace cuttle::api
