#include "api/handlers.h"

namespace cuttle::api {

namespace {

using Plain = http::Response (*)(ApiContext&, http::Request&);
using WithCaller = http::Response (*)(ApiContext&, http::Request&, const repo::UserRow&);

http::Handler Bind(ApiContext& ctx, Plain h) {
  return [&ctx, h](http::Request& req) { return h(ctx, req); };
}
// The caller is the one the route's gate authenticated (Request::principal): no second lookup.
http::Handler Bind(ApiContext& ctx, WithCaller h) {
  return [&ctx, h](http::Request& req) { return h(ctx, req, Caller(req)); };
}

http::Response CurrentUser(ApiContext&, http::Request&, const repo::UserRow& user) {
  return GetCurrentUser(user);
}

struct Route {
  const char* method;
  const char* path;
  Access access;
  http::Handler handler;
};

}  // namespace

std::shared_ptr<http::Router> BuildRouter(ApiContext& ctx) {
  auto router = std::make_shared<http::Router>();
  using enum Access;
  // clang-format off
  const Route routes[] = {
    {"GET",    "/api",                                   kAnonymous, Bind(ctx, GetRoot)},
    {"GET",    "/api/users/me",                          kApiKey,    Bind(ctx, CurrentUser)},
    {"GET",    "/api/spaces",                            kApiKey,    Bind(ctx, ListSpaces)},
    {"GET",    "/api/spaces/all",                        kApiKey,    Bind(ctx, ListAllSpaces)},
    {"GET",    "/api/spaces/{id}",                       kApiKey,    Bind(ctx, GetSpace)},
    {"GET",    "/api/octopusservernodes/summary",        kApiKey,    Bind(ctx, NodesSummary)},
    {"GET",    "/api/octopusservernodes",                kApiKey,    Bind(ctx, ListNodes)},
    {"GET",    "/api/octopusservernodes/all",            kApiKey,    Bind(ctx, ListAllNodes)},
    {"GET",    "/api/octopusservernodes/{id}",           kApiKey,    Bind(ctx, GetNode)},
    {"GET",    "/api/octopusservernodes/{id}/details",   kApiKey,    Bind(ctx, GetNodeDetails)},
    {"PUT",    "/api/octopusservernodes/{id}",           kApiKey,    Bind(ctx, UpdateNode)},
    {"DELETE", "/api/octopusservernodes/{id}",           kApiKey,    Bind(ctx, DeleteNode)},
  };
  // Task and artifact routes exist unscoped (the default space) and space-scoped.
  const Route scoped[] = {
    {"GET",    "/tasks",                                 kApiKey,    Bind(ctx, ListTasks)},
    {"POST",   "/tasks",                                 kApiKey,    Bind(ctx, CreateTask)},
    {"GET",    "/tasks/{id}",                            kApiKey,    Bind(ctx, GetTask)},
    {"GET",    "/tasks/{id}/details",                    kApiKey,    Bind(ctx, GetTaskDetails)},
    {"GET",    "/tasks/{id}/raw",                        kApiKey,    Bind(ctx, GetTaskRaw)},
    {"POST",   "/tasks/{id}/cancel",                     kApiKey,    Bind(ctx, CancelTask)},
    {"POST",   "/tasks/{id}/rerun",                      kApiKey,    Bind(ctx, RerunTask)},
    {"GET",    "/artifacts",                             kApiKey,    Bind(ctx, ListArtifacts)},
    {"GET",    "/artifacts/{id}",                        kApiKey,    Bind(ctx, GetArtifact)},
    {"GET",    "/artifacts/{id}/content",                kApiKey,    Bind(ctx, GetArtifactContent)},
    {"DELETE", "/artifacts/{id}",                        kApiKey,    Bind(ctx, DeleteArtifact)},
    {"GET",    "/packages",                              kApiKey,    Bind(ctx, ListPackages)},
    {"GET",    "/packages/{id}",                         kApiKey,    Bind(ctx, GetPackage)},
    {"GET",    "/packages/{id}/raw",                     kApiKey,    Bind(ctx, GetPackageRaw)},
    {"DELETE", "/packages/{id}",                         kApiKey,    Bind(ctx, DeletePackage)},
    {"GET",    "/feeds",                                 kApiKey,    Bind(ctx, ListFeeds)},
    {"GET",    "/feeds/{feedId}",                        kApiKey,    Bind(ctx, GetFeed)},
    {"GET",    "/feeds/{feedId}/packages/versions",      kApiKey,    Bind(ctx, ListFeedPackageVersions)},
  };
  // Uploads stream their body to shared storage instead of buffering it (stream_body).
  const Route scoped_uploads[] = {
    {"POST",   "/packages/raw",                          kApiKey,    Bind(ctx, UploadPackage)},
  };
  // The NuGet v2 feed: /nuget/packages is the default space, /{spaceId}/nuget/packages another.
  // Reads are anonymous (nuget.exe cannot answer a 401); writes need X-NuGet-ApiKey (403 if not).
  const Route nuget[] = {
    {"GET",    "/nuget/packages",                        kAnonymous, Bind(ctx, NuGetServiceDocument)},
    {"GET",    "/nuget/packages/{op}",                   kAnonymous, Bind(ctx, NuGetQuery)},
    {"GET",    "/nuget/packages/package/{id}/{version}", kAnonymous, Bind(ctx, NuGetDownload)},
    {"DELETE", "/nuget/packages/{id}/{version}",         kNuGetKey,  Bind(ctx, NuGetDelete)},
  };
  // clang-format on
  auto add = [&](const Route& r, const std::string& path, bool stream) {
    router->Add(r.method, path, r.handler,
                {.max_body_bytes = std::nullopt,
                 .stream_body = stream,
                 .admit = Gate(ctx, r.access),
                 .probe = false});
  };
  // The load balancer's probe: answered from memory on the I/O thread, even on a full node.
  router->Add("GET", "/api/octopusservernodes/ping", Bind(ctx, PingNode),
              {.max_body_bytes = std::nullopt, .stream_body = false, .admit = {}, .probe = true});
  for (const auto& r : routes) add(r, r.path, false);
  for (const auto& r : scoped) {
    add(r, std::string("/api") + r.path, false);
    add(r, std::string("/api/{spaceId}") + r.path, false);
  }
  for (const auto& r : scoped_uploads) {
    add(r, std::string("/api") + r.path, true);
    add(r, std::string("/api/{spaceId}") + r.path, true);
  }
  for (const auto& r : nuget) {
    add(r, r.path, false);
    add(r, std::string("/{spaceId}") + r.path, false);
  }
  // nuget push PUTs to "<source>/", or to /api/v2/package/ when the source has an empty path.
  const Route push{"PUT", "", kNuGetKey, Bind(ctx, NuGetPush)};
  for (const char* path : {"/nuget/packages", "/{spaceId}/nuget/packages", "/api/v2/package"}) {
    add(push, path, true);
  }
  return router;
}

}  // namespace cuttle::api
