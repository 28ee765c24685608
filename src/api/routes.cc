#include "api/handlers.h"

namespace cuttle::api {

std::shared_ptr<http::Router> BuildRouter(ApiContext& ctx) {
  auto router = std::make_shared<http::Router>();
  auto open = [&ctx](http::Response (*h)(ApiContext&, http::Request&)) -> http::Handler {
    return [&ctx, h](http::Request& req) { return h(ctx, req); };
  };
  auto authed = [&ctx](http::Response (*h)(ApiContext&, http::Request&)) -> http::Handler {
    return RequireAuth(ctx,
                       [&ctx, h](http::Request& req, const repo::UserRow&) { return h(ctx, req); });
  };
  auto authed_user = [&ctx](http::Response (*h)(ApiContext&, http::Request&,
                                                const repo::UserRow&)) -> http::Handler {
    return RequireAuth(ctx, [&ctx, h](http::Request& req, const repo::UserRow& user) {
      return h(ctx, req, user);
    });
  };

  struct Route {
    const char* method;
    const char* path;
    http::Handler handler;
  };
  // clang-format off
  const Route routes[] = {
    {"GET",    "/api",                                   open(GetRoot)},
    {"GET",    "/api/users/me",                          RequireAuth(ctx, [](http::Request&, const repo::UserRow& u) { return GetCurrentUser(u); })},
    {"GET",    "/api/spaces",                            authed(ListSpaces)},
    {"GET",    "/api/spaces/all",                        authed(ListAllSpaces)},
    {"GET",    "/api/spaces/{id}",                       authed(GetSpace)},
    {"GET",    "/api/octopusservernodes/ping",           open(PingNode)},
    {"GET",    "/api/octopusservernodes/summary",        authed(NodesSummary)},
    {"GET",    "/api/octopusservernodes",                authed(ListNodes)},
    {"GET",    "/api/octopusservernodes/all",            authed(ListAllNodes)},
    {"GET",    "/api/octopusservernodes/{id}",           authed(GetNode)},
    {"GET",    "/api/octopusservernodes/{id}/details",   authed(GetNodeDetails)},
    {"PUT",    "/api/octopusservernodes/{id}",           authed_user(UpdateNode)},
    {"DELETE", "/api/octopusservernodes/{id}",           authed(DeleteNode)},
  };
  // Task and artifact routes exist unscoped (the default space) and space-scoped.
  const Route scoped[] = {
    {"GET",    "/tasks",                                 authed(ListTasks)},
    {"POST",   "/tasks",                                 authed_user(CreateTask)},
    {"GET",    "/tasks/{id}",                            authed(GetTask)},
    {"GET",    "/tasks/{id}/details",                    authed(GetTaskDetails)},
    {"GET",    "/tasks/{id}/raw",                        authed(GetTaskRaw)},
    {"POST",   "/tasks/{id}/cancel",                     authed(CancelTask)},
    {"POST",   "/tasks/{id}/rerun",                      authed_user(RerunTask)},
    {"GET",    "/artifacts",                             authed(ListArtifacts)},
    {"GET",    "/artifacts/{id}",                        authed(GetArtifact)},
    {"GET",    "/artifacts/{id}/content",                authed(GetArtifactContent)},
    {"DELETE", "/artifacts/{id}",                        authed(DeleteArtifact)},
    {"GET",    "/packages",                              authed(ListPackages)},
    {"GET",    "/packages/{id}",                         authed(GetPackage)},
    {"GET",    "/packages/{id}/raw",                     authed(GetPackageRaw)},
    {"DELETE", "/packages/{id}",                         authed(DeletePackage)},
    {"GET",    "/feeds",                                 authed(ListFeeds)},
    {"GET",    "/feeds/{feedId}",                        authed(GetFeed)},
    {"GET",    "/feeds/{feedId}/packages/versions",      authed(ListFeedPackageVersions)},
  };
  // Uploads stream their body to shared storage instead of buffering it (stream_body).
  const Route scoped_uploads[] = {
    {"POST",   "/packages/raw",                          authed(UploadPackage)},
  };
  // The NuGet v2 feed: /nuget/packages is the default space, /{spaceId}/nuget/packages another.
  // Reads are anonymous (nuget.exe cannot answer a 401); writes check X-NuGet-ApiKey themselves.
  const Route nuget[] = {
    {"GET",    "/nuget/packages",                        open(NuGetServiceDocument)},
    {"GET",    "/nuget/packages/{op}",                   open(NuGetQuery)},
    {"GET",    "/nuget/packages/package/{id}/{version}", open(NuGetDownload)},
    {"DELETE", "/nuget/packages/{id}/{version}",         open(NuGetDelete)},
  };
  // clang-format on
  for (const auto& r : routes) router->Add(r.method, r.path, r.handler);
  for (const auto& r : scoped) {
    router->Add(r.method, std::string("/api") + r.path, r.handler);
    router->Add(r.method, std::string("/api/{spaceId}") + r.path, r.handler);
  }
  const http::Router::Options stream{.max_body_bytes = std::nullopt, .stream_body = true};
  for (const auto& r : scoped_uploads) {
    router->Add(r.method, std::string("/api") + r.path, r.handler, stream);
    router->Add(r.method, std::string("/api/{spaceId}") + r.path, r.handler, stream);
  }
  for (const auto& r : nuget) {
    router->Add(r.method, r.path, r.handler);
    router->Add(r.method, std::string("/{spaceId}") + r.path, r.handler);
  }
  // nuget push PUTs to "<source>/", or to /api/v2/package/ when the source has an empty path.
  for (const char* path : {"/nuget/packages", "/{spaceId}/nuget/packages", "/api/v2/package"}) {
    router->Add("PUT", path, open(NuGetPush), stream);
  }
  return router;
}

}  // namespace cuttle::api
