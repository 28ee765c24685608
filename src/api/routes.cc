#include "api/handlers.h"
#include "api/kit.h"
#include "api/release_handlers.h"
#include "core/json.h"

namespace cuttle::api {

namespace {

// The route adapter: the one place an error becomes an Octopus error response.
http::Handler Bind(ApiContext& ctx, KitHandler h) {
  return [&ctx, h](http::Request& req) {
    auto response = h(ctx, req);
    return response ? std::move(*response) : http::Response::FromError(response.error());
  };
}

// The `/all` form of a collection whose list handler pages: every item, as a bare array. Used for
// the collections without a handler of their own (which can read their rows unpaged directly).
http::Handler AllOf(ApiContext& ctx, KitHandler list) {
  return [&ctx, list](http::Request& req) {
    static const std::string kFirst = "0", kEverything = std::to_string(INT64_MAX);
    req.query.insert_or_assign("skip", kFirst);
    req.query.insert_or_assign("take", kEverything);
    auto page = list(ctx, req);
    if (!page) return http::Response::FromError(page.error());
    if (page->status != 200) return std::move(*page);
    auto body = core::ParseJson(page->body);
    if (!body || !body->contains("Items")) {
      return http::Response::FromError(Error::Internal("a list handler answered no Items"));
    }
    return http::Response::Json(200, (*body)["Items"]);
  };
}

struct Route {
  const char* method;
  const char* path;
  Access access;
  Permission permission;
  http::Handler handler;
};

}  // namespace

std::shared_ptr<http::Router> BuildRouter(ApiContext& ctx) {
  auto router = std::make_shared<http::Router>();
  using enum Access;
  using enum Permission;
  // clang-format off
  const Route routes[] = {
    {"GET",    "/api",                                   kAnonymous, kNone, Bind(ctx, GetRoot)},
    {"GET",    "/api/users/me",                          kApiKey,    kUserView, Bind(ctx, GetCurrentUser)},
    {"GET",    "/api/authentication",                    kAnonymous, kNone, Bind(ctx, GetAuthentication)},
    {"POST",   "/api/users/login",                       kAnonymous, kNone, Bind(ctx, SignIn)},
    {"POST",   "/api/users/logout",                      kAnonymous, kNone, Bind(ctx, SignOut)},
    {"GET",    "/api/users",                             kApiKey,    kUserView, Bind(ctx, ListUsers)},
    {"GET",    "/api/users/all",                         kApiKey,    kUserView, AllOf(ctx, ListUsers)},
    {"POST",   "/api/users",                             kApiKey,    kUserEdit, Bind(ctx, CreateUser)},
    {"GET",    "/api/users/{id}",                        kApiKey,    kUserView, Bind(ctx, GetUser)},
    {"PUT",    "/api/users/{id}",                        kApiKey,    kUserEdit, Bind(ctx, ModifyUser)},
    {"DELETE", "/api/users/{id}",                        kApiKey,    kUserEdit, Bind(ctx, DeleteUser)},
    {"POST",   "/api/users/{id}/changepassword",         kApiKey,    kUserEdit, Bind(ctx, ChangePassword)},
    {"PUT",    "/api/users/{id}/revokesessions",         kApiKey,    kUserEdit, Bind(ctx, RevokeUserSessions)},
    {"GET",    "/api/users/{id}/apikeys",                kApiKey,    kUserView, Bind(ctx, ListUserApiKeys)},
    {"POST",   "/api/users/{id}/apikeys",                kApiKey,    kUserEdit, Bind(ctx, CreateUserApiKey)},
    {"GET",    "/api/users/{id}/apikeys/{keyId}",        kApiKey,    kUserView, Bind(ctx, GetUserApiKey)},
    {"DELETE", "/api/users/{id}/apikeys/{keyId}",        kApiKey,    kUserEdit, Bind(ctx, DeleteUserApiKey)},
    {"GET",    "/api/spaces",                            kApiKey,    kSpaceView, Bind(ctx, ListSpaces)},
    {"GET",    "/api/spaces/all",                        kApiKey,    kSpaceView, Bind(ctx, ListAllSpaces)},
    {"GET",    "/api/spaces/{id}",                       kApiKey,    kSpaceView, Bind(ctx, GetSpace)},
    {"POST",   "/api/spaces",                            kApiKey,    kSpaceCreate, Bind(ctx, CreateSpace)},
    {"PUT",    "/api/spaces/{id}",                       kApiKey,    kSpaceEdit, Bind(ctx, ModifySpace)},
    {"DELETE", "/api/spaces/{id}",                       kApiKey,    kSpaceDelete, Bind(ctx, DeleteSpace)},
    {"GET",    "/api/octopusservernodes/summary",        kApiKey,    kConfigureServer, Bind(ctx, NodesSummary)},
    {"GET",    "/api/octopusservernodes",                kApiKey,    kConfigureServer, Bind(ctx, ListNodes)},
    {"GET",    "/api/octopusservernodes/all",            kApiKey,    kConfigureServer, Bind(ctx, ListAllNodes)},
    {"GET",    "/api/octopusservernodes/{id}",           kApiKey,    kConfigureServer, Bind(ctx, GetNode)},
    {"GET",    "/api/octopusservernodes/{id}/details",   kApiKey,    kConfigureServer, Bind(ctx, GetNodeDetails)},
    {"PUT",    "/api/octopusservernodes/{id}",           kApiKey,    kConfigureServer, Bind(ctx, UpdateNode)},
    {"DELETE", "/api/octopusservernodes/{id}",           kApiKey,    kConfigureServer, Bind(ctx, DeleteNode)},
  };
  // Task and artifact routes exist unscoped (the default space) and space-scoped.
  const Route scoped[] = {
    {"GET",    "/tasks",                                 kApiKey,    kTaskView, Bind(ctx, ListTasks)},
    {"POST",   "/tasks",                                 kApiKey,    kTaskCreate, Bind(ctx, CreateTask)},
    {"GET",    "/tasks/{id}",                            kApiKey,    kTaskView, Bind(ctx, GetTask)},
    {"GET",    "/tasks/{id}/details",                    kApiKey,    kTaskView, Bind(ctx, GetTaskDetails)},
    {"GET",    "/tasks/{id}/raw",                        kApiKey,    kTaskView, Bind(ctx, GetTaskRaw)},
    {"POST",   "/tasks/{id}/cancel",                     kApiKey,    kTaskCancel, Bind(ctx, CancelTask)},
    {"POST",   "/tasks/{id}/rerun",                      kApiKey,    kTaskCreate, Bind(ctx, RerunTask)},
    {"GET",    "/artifacts",                             kApiKey,    kArtifactView, Bind(ctx, ListArtifacts)},
    {"GET",    "/artifacts/{id}",                        kApiKey,    kArtifactView, Bind(ctx, GetArtifact)},
    {"GET",    "/artifacts/{id}/content",                kApiKey,    kArtifactView, Bind(ctx, GetArtifactContent)},
    {"DELETE", "/artifacts/{id}",                        kApiKey,    kArtifactDelete, Bind(ctx, DeleteArtifact)},
    {"GET",    "/packages",                              kApiKey,    kFeedView, Bind(ctx, ListPackages)},
    {"GET",    "/packages/{id}",                         kApiKey,    kFeedView, Bind(ctx, GetPackage)},
    {"GET",    "/packages/{id}/raw",                     kApiKey,    kBuiltInFeedDownload, Bind(ctx, GetPackageRaw)},
    {"DELETE", "/packages/{id}",                         kApiKey,    kBuiltInFeedAdminister, Bind(ctx, DeletePackage)},
    {"GET",    "/feeds",                                 kApiKey,    kFeedView, Bind(ctx, ListFeeds)},
    {"GET",    "/feeds/all",                             kApiKey,    kFeedView, AllOf(ctx, ListFeeds)},
    {"GET",    "/feeds/{feedId}",                        kApiKey,    kFeedView, Bind(ctx, GetFeed)},
    {"GET",    "/feeds/{feedId}/packages/versions",      kApiKey,    kFeedView, Bind(ctx, ListFeedPackageVersions)},
    // project-model: projects, channels, deployment processes, variables
    {"GET",    "/projects",                              kApiKey,    kProjectView, Bind(ctx, ListProjects)},
    {"GET",    "/projects/all",                          kApiKey,    kProjectView, Bind(ctx, ListAllProjects)},
    {"POST",   "/projects",                              kApiKey,    kProjectCreate, Bind(ctx, CreateProject)},
    {"GET",    "/projects/{id}",                         kApiKey,    kProjectView, Bind(ctx, GetProject)},
    {"PUT",    "/projects/{id}",                         kApiKey,    kProjectEdit, Bind(ctx, UpdateProject)},
    {"DELETE", "/projects/{id}",                         kApiKey,    kProjectDelete, Bind(ctx, DeleteProject)},
    {"GET",    "/projectgroups/{id}/projects",           kApiKey,    kProjectView, Bind(ctx, ListProjectGroupProjects)},
    {"GET",    "/projects/{id}/channels",                kApiKey,    kProjectView, Bind(ctx, ListProjectChannels)},
    {"GET",    "/channels",                              kApiKey,    kProjectView, Bind(ctx, ListChannels)},
    {"GET",    "/channels/all",                          kApiKey,    kProjectView, Bind(ctx, ListAllChannels)},
    {"POST",   "/channels",                              kApiKey,    kProjectEdit, Bind(ctx, CreateChannel)},
    {"GET",    "/channels/{id}",                         kApiKey,    kProjectView, Bind(ctx, GetChannel)},
    {"PUT",    "/channels/{id}",                         kApiKey,    kProjectEdit, Bind(ctx, UpdateChannel)},
    {"DELETE", "/channels/{id}",                         kApiKey,    kProjectEdit, Bind(ctx, DeleteChannel)},
    {"GET",    "/deploymentprocesses/{id}",              kApiKey,    kProcessView, Bind(ctx, GetDeploymentProcess)},
    {"PUT",    "/deploymentprocesses/{id}",              kApiKey,    kProcessEdit, Bind(ctx, UpdateDeploymentProcess)},
    {"GET",    "/projects/{id}/deploymentprocesses",     kApiKey,    kProcessView, Bind(ctx, GetProjectDeploymentProcess)},
    {"PUT",    "/projects/{id}/deploymentprocesses",     kApiKey,    kProcessEdit, Bind(ctx, UpdateProjectDeploymentProcess)},
    {"GET",    "/variables/names",                       kApiKey,    kVariableView, Bind(ctx, ListVariableNames)},
    {"GET",    "/variables/{id}",                        kApiKey,    kVariableView, Bind(ctx, GetVariableSet)},
    {"PUT",    "/variables/{id}",                        kApiKey,    kVariableEdit, Bind(ctx, UpdateVariableSet)},
    {"GET",    "/libraryvariablesets",                   kApiKey,    kLibraryVariableSetView, Bind(ctx, ListLibraryVariableSets)},
    {"GET",    "/libraryvariablesets/all",               kApiKey,    kLibraryVariableSetView, Bind(ctx, ListAllLibraryVariableSets)},
    {"POST",   "/libraryvariablesets",                   kApiKey,    kLibraryVariableSetCreate, Bind(ctx, CreateLibraryVariableSet)},
    {"GET",    "/libraryvariablesets/{id}",              kApiKey,    kLibraryVariableSetView, Bind(ctx, GetLibraryVariableSet)},
    {"PUT",    "/libraryvariablesets/{id}",              kApiKey,    kLibraryVariableSetEdit, Bind(ctx, UpdateLibraryVariableSet)},
    {"DELETE", "/libraryvariablesets/{id}",              kApiKey,    kLibraryVariableSetDelete, Bind(ctx, DeleteLibraryVariableSet)},
    // Environments (infra-model)
    {"GET",    "/environments",                          kApiKey,    kEnvironmentView, Bind(ctx, ListEnvironments)},
    {"GET",    "/environments/all",                      kApiKey,    kEnvironmentView, Bind(ctx, ListAllEnvironments)},
    {"GET",    "/environments/sortorder",                kApiKey,    kEnvironmentView, Bind(ctx, GetEnvironmentSortOrder)},
    {"GET",    "/environments/summary",                  kApiKey,    kMachineView, Bind(ctx, EnvironmentsSummary)},
    {"PUT",    "/environments/sortorder",                kApiKey,    kEnvironmentEdit, Bind(ctx, SortEnvironments)},
    {"GET",    "/environments/{id}",                     kApiKey,    kEnvironmentView, Bind(ctx, GetEnvironment)},
    {"POST",   "/environments",                          kApiKey,    kEnvironmentCreate, Bind(ctx, CreateEnvironment)},
    {"PUT",    "/environments/{id}",                     kApiKey,    kEnvironmentEdit, Bind(ctx, ModifyEnvironment)},
    {"DELETE", "/environments/{id}",                     kApiKey,    kEnvironmentDelete, Bind(ctx, DeleteEnvironment)},
    {"GET",    "/lifecycles",                            kApiKey,    kLifecycleView, Bind(ctx, ListLifecycles)},
    {"GET",    "/lifecycles/all",                        kApiKey,    kLifecycleView, Bind(ctx, ListAllLifecycles)},
    {"GET",    "/lifecycles/{id}",                       kApiKey,    kLifecycleView, Bind(ctx, GetLifecycle)},
    {"POST",   "/lifecycles",                            kApiKey,    kLifecycleCreate, Bind(ctx, CreateLifecycle)},
    {"PUT",    "/lifecycles/{id}",                       kApiKey,    kLifecycleEdit, Bind(ctx, ModifyLifecycle)},
    {"DELETE", "/lifecycles/{id}",                       kApiKey,    kLifecycleDelete, Bind(ctx, DeleteLifecycle)},
    {"GET",    "/projectgroups",                         kApiKey,    kProjectGroupView, Bind(ctx, ListProjectGroups)},
    {"GET",    "/projectgroups/all",                     kApiKey,    kProjectGroupView, Bind(ctx, ListAllProjectGroups)},
    {"GET",    "/projectgroups/{id}",                    kApiKey,    kProjectGroupView, Bind(ctx, GetProjectGroup)},
    {"POST",   "/projectgroups",                         kApiKey,    kProjectGroupCreate, Bind(ctx, CreateProjectGroup)},
    {"PUT",    "/projectgroups/{id}",                    kApiKey,    kProjectGroupEdit, Bind(ctx, ModifyProjectGroup)},
    {"DELETE", "/projectgroups/{id}",                    kApiKey,    kProjectGroupDelete, Bind(ctx, DeleteProjectGroup)},
    {"GET",    "/machinepolicies",                       kApiKey,    kMachinePolicyView, Bind(ctx, ListMachinePolicies)},
    {"GET",    "/machinepolicies/all",                   kApiKey,    kMachinePolicyView, Bind(ctx, ListAllMachinePolicies)},
    {"GET",    "/machinepolicies/{id}",                  kApiKey,    kMachinePolicyView, Bind(ctx, GetMachinePolicy)},
    {"GET",    "/machines",                              kApiKey,    kMachineView, Bind(ctx, ListMachines)},
    {"GET",    "/machines/all",                          kApiKey,    kMachineView, Bind(ctx, ListAllMachines)},
    {"GET",    "/machines/{id}",                         kApiKey,    kMachineView, Bind(ctx, GetMachine)},
    {"POST",   "/machines",                              kApiKey,    kMachineCreate, Bind(ctx, CreateMachine)},
    {"PUT",    "/machines/{id}",                         kApiKey,    kMachineEdit, Bind(ctx, ModifyMachine)},
    {"DELETE", "/machines/{id}",                         kApiKey,    kMachineDelete, Bind(ctx, DeleteMachine)},
    {"GET",    "/environments/{id}/machines",            kApiKey,    kMachineView, Bind(ctx, ListEnvironmentMachines)},
    {"GET",    "/events",                                kApiKey,    kEventView, Bind(ctx, ListEvents)},
    {"GET",    "/events/categories",                     kApiKey,    kEventView, Bind(ctx, ListEventCategories)},
    {"GET",    "/events/documenttypes",                  kApiKey,    kEventView, Bind(ctx, ListEventDocumentTypes)},
    {"GET",    "/events/{id}",                           kApiKey,    kEventView, Bind(ctx, GetEvent)},
  };
  // Releases, deployments, the dashboard and runbooks (issue 10), space-scoped like `scoped`.
  const Route releases[] = {
    {"GET",   "/releases",                                      kApiKey,    kReleaseView, Bind(ctx, ListReleases)},
    {"GET",   "/releases/all",                                  kApiKey,    kReleaseView, AllOf(ctx, ListReleases)},
    {"POST",  "/releases",                                      kApiKey,    kReleaseCreate, Bind(ctx, CreateRelease)},
    {"POST",  "/releases/create/v1",                            kApiKey,    kReleaseCreate, Bind(ctx, CreateReleaseV1)},
    {"GET",   "/releases/{id}",                                 kApiKey,    kReleaseView, Bind(ctx, GetRelease)},
    {"PUT",   "/releases/{id}",                                 kApiKey,    kReleaseEdit, Bind(ctx, UpdateRelease)},
    {"DELETE","/releases/{id}",                                 kApiKey,    kReleaseDelete, Bind(ctx, DeleteRelease)},
    {"POST",  "/releases/{id}/snapshot-variables",              kApiKey,    kReleaseEdit, Bind(ctx, SnapshotReleaseVariables)},
    {"GET",   "/releases/{id}/progression",                     kApiKey,    kReleaseView, Bind(ctx, GetReleaseProgression)},
    {"GET",   "/releases/{id}/deployments",                     kApiKey,    kDeploymentView, Bind(ctx, ListReleaseDeployments)},
    {"GET",   "/releases/{id}/deployments/template",            kApiKey,    kDeploymentView, Bind(ctx, GetReleaseDeploymentTemplate)},
    {"GET",   "/projects/{projectId}/releases",                 kApiKey,    kReleaseView, Bind(ctx, ListProjectReleases)},
    {"GET",   "/projects/{projectId}/releases/{version}",       kApiKey,    kReleaseView, Bind(ctx, GetProjectReleaseByVersion)},
    {"GET",   "/channels/{channelId}/releases",                 kApiKey,    kReleaseView, Bind(ctx, ListChannelReleases)},
    {"GET",   "/deployments",                                   kApiKey,    kDeploymentView, Bind(ctx, ListDeployments)},
    {"GET",   "/deployments/all",                               kApiKey,    kDeploymentView, AllOf(ctx, ListDeployments)},
    {"POST",  "/deployments",                                   kApiKey,    kDeploymentCreate, Bind(ctx, CreateDeployment)},
    {"POST",  "/deployments/create/untenanted/v1",              kApiKey,    kDeploymentCreate, Bind(ctx, CreateDeploymentUntenantedV1)},
    {"GET",   "/deployments/{id}",                              kApiKey,    kDeploymentView, Bind(ctx, GetDeployment)},
    {"DELETE","/deployments/{id}",                              kApiKey,    kDeploymentDelete, Bind(ctx, DeleteDeployment)},
    {"GET",   "/dashboard",                                     kApiKey,    kProjectView, Bind(ctx, GetDashboard)},
    {"GET",   "/runbooks",                                      kApiKey,    kRunbookView, Bind(ctx, ListRunbooks)},
    {"GET",   "/runbooks/all",                                  kApiKey,    kRunbookView, AllOf(ctx, ListRunbooks)},
    {"POST",  "/runbooks",                                      kApiKey,    kRunbookEdit, Bind(ctx, CreateRunbook)},
    {"GET",   "/runbooks/{id}",                                 kApiKey,    kRunbookView, Bind(ctx, GetRunbook)},
    {"PUT",   "/runbooks/{id}",                                 kApiKey,    kRunbookEdit, Bind(ctx, UpdateRunbook)},
    {"DELETE","/runbooks/{id}",                                 kApiKey,    kRunbookEdit, Bind(ctx, DeleteRunbook)},
    {"GET",   "/runbooks/{runbookId}/runbookSnapshots",         kApiKey,    kRunbookView, Bind(ctx, ListRunbookSnapshots)},
    {"GET",   "/projects/{projectId}/runbooks",                 kApiKey,    kRunbookView, Bind(ctx, ListRunbooks)},
    {"POST",  "/projects/{projectId}/runbooks",                 kApiKey,    kRunbookEdit, Bind(ctx, CreateRunbook)},
    {"GET",   "/projects/{projectId}/runbooks/{id}",            kApiKey,    kRunbookView, Bind(ctx, GetRunbook)},
    {"PUT",   "/projects/{projectId}/runbooks/{id}",            kApiKey,    kRunbookEdit, Bind(ctx, UpdateRunbook)},
    {"DELETE","/projects/{projectId}/runbooks/{id}",            kApiKey,    kRunbookEdit, Bind(ctx, DeleteRunbook)},
    {"GET",   "/runbookProcesses/{id}",                         kApiKey,    kRunbookView, Bind(ctx, GetRunbookProcess)},
    {"PUT",   "/runbookProcesses/{id}",                         kApiKey,    kRunbookEdit, Bind(ctx, UpdateRunbookProcess)},
    {"GET",   "/projects/{projectId}/runbookProcesses/{id}",    kApiKey,    kRunbookView, Bind(ctx, GetRunbookProcess)},
    {"PUT",   "/projects/{projectId}/runbookProcesses/{id}",    kApiKey,    kRunbookEdit, Bind(ctx, UpdateRunbookProcess)},
    {"GET",   "/runbookSnapshots",                              kApiKey,    kRunbookView, Bind(ctx, ListRunbookSnapshots)},
    {"GET",   "/runbookSnapshots/all",                          kApiKey,    kRunbookView, AllOf(ctx, ListRunbookSnapshots)},
    {"POST",  "/runbookSnapshots",                              kApiKey,    kRunbookEdit, Bind(ctx, CreateRunbookSnapshot)},
    {"GET",   "/runbookSnapshots/{id}",                         kApiKey,    kRunbookView, Bind(ctx, GetRunbookSnapshot)},
    {"POST",  "/projects/{projectId}/runbookSnapshots",         kApiKey,    kRunbookEdit, Bind(ctx, CreateRunbookSnapshot)},
    {"GET",   "/projects/{projectId}/runbookSnapshots/{id}",    kApiKey,    kRunbookView, Bind(ctx, GetRunbookSnapshot)},
    // Interruptions (issue 11): manual interventions and guided failure
    {"GET",   "/interruptions",                                 kApiKey,    kInterruptionView, Bind(ctx, ListInterruptions)},
    {"GET",   "/interruptions/{id}",                            kApiKey,    kInterruptionView, Bind(ctx, GetInterruption)},
    {"GET",   "/interruptions/{id}/responsible",                kApiKey,    kInterruptionView, Bind(ctx, GetInterruptionResponsible)},
    {"PUT",   "/interruptions/{id}/responsible",                kApiKey,    kInterruptionSubmit, Bind(ctx, TakeInterruptionResponsibility)},
    {"POST",  "/interruptions/{id}/submit",                     kApiKey,    kInterruptionSubmit, Bind(ctx, SubmitInterruption)},
    {"POST",  "/runbook-runs/create/v1",                        kApiKey,    kRunbookRunCreate, Bind(ctx, CreateRunbookRunV1)},
    {"GET",   "/runbookRuns",                                   kApiKey,    kRunbookRunView, Bind(ctx, ListRunbookRuns)},
    {"GET",   "/runbookRuns/all",                               kApiKey,    kRunbookRunView, AllOf(ctx, ListRunbookRuns)},
    {"GET",   "/runbookRuns/{id}",                              kApiKey,    kRunbookRunView, Bind(ctx, GetRunbookRun)},
  };
  // Uploads stream their body to shared storage instead of buffering it (stream_body).
  const Route scoped_uploads[] = {
    {"POST",   "/packages/raw",                          kApiKey,    kBuiltInFeedPush, Bind(ctx, UploadPackage)},
  };
  // The NuGet v2 feed: /nuget/packages is the default space, /{spaceId}/nuget/packages another.
  // Reads are anonymous (nuget.exe cannot answer a 401); writes need X-NuGet-ApiKey (403 if not).
  const Route nuget[] = {
    {"GET",    "/nuget/packages",                        kAnonymous, kNone, Bind(ctx, NuGetServiceDocument)},
    {"GET",    "/nuget/packages/{op}",                   kAnonymous, kNone, Bind(ctx, NuGetQuery)},
    {"GET",    "/nuget/packages/package/{id}/{version}", kAnonymous, kNone, Bind(ctx, NuGetDownload)},
    {"DELETE", "/nuget/packages/{id}/{version}",         kNuGetKey,  kBuiltInFeedAdminister, Bind(ctx, NuGetDelete)},
  };
  // clang-format on
  auto add = [&](const Route& r, const std::string& path, bool stream) {
    router->Add(r.method, path, r.handler,
                {.max_body_bytes = std::nullopt,
                 .stream_body = stream,
                 .admit = Gate(ctx, r.access, r.permission),
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
  for (const auto& r : releases) {
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
  const Route push{"PUT", "", kNuGetKey, kBuiltInFeedPush, Bind(ctx, NuGetPush)};
  for (const char* path : {"/nuget/packages", "/{spaceId}/nuget/packages", "/api/v2/package"}) {
    add(push, path, true);
  }
  AddAgentRoutes(ctx, *router);
  AddPortalRoutes(ctx, *router);
  return router;
}

}  // namespace cuttle::api
