// Handler factories per resource family; routes.cc wires them into the one route table.
#pragma once

#include "api/common.h"
#include "repo/spaces.h"

namespace cuttle::api {

// agent_api.cc: the /api/agent/v1 routes (none when ctx.agents is null).
void AddAgentRoutes(ApiContext& ctx, http::Router& router);

// portal.cc: the web portal at /app (static files from server.web_dir), and / redirecting there.
void AddPortalRoutes(ApiContext& ctx, http::Router& router);

// root.cc
Result<http::Response> GetRoot(ApiContext& ctx, http::Request& req);

// spaces.cc
Result<http::Response> ListSpaces(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllSpaces(ApiContext& ctx, http::Request& req);
Result<http::Response> GetSpace(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateSpace(ApiContext& ctx, http::Request& req);
Result<http::Response> ModifySpace(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteSpace(ApiContext& ctx, http::Request& req);

// users.cc
// Octopus's UserResource; `is_requestor`: the user is the caller.
json UserJson(const repo::UserRow& user, bool is_requestor);
Result<http::Response> GetCurrentUser(ApiContext& ctx, http::Request& req);
Result<http::Response> GetAuthentication(ApiContext& ctx, http::Request& req);  // anonymous
Result<http::Response> SignIn(ApiContext& ctx, http::Request& req);             // /api/users/login
Result<http::Response> SignOut(ApiContext& ctx, http::Request& req);            // /api/users/logout
Result<http::Response> ListUsers(ApiContext& ctx, http::Request& req);
Result<http::Response> GetUser(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateUser(ApiContext& ctx, http::Request& req);
Result<http::Response> ModifyUser(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteUser(ApiContext& ctx, http::Request& req);
Result<http::Response> ChangePassword(ApiContext& ctx, http::Request& req);
Result<http::Response> RevokeUserSessions(ApiContext& ctx, http::Request& req);
Result<http::Response> ListUserApiKeys(ApiContext& ctx, http::Request& req);
Result<http::Response> GetUserApiKey(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateUserApiKey(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteUserApiKey(ApiContext& ctx, http::Request& req);

// nodes.cc
Result<http::Response> PingNode(ApiContext& ctx, http::Request& req);
Result<http::Response> ListNodes(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllNodes(ApiContext& ctx, http::Request& req);
Result<http::Response> GetNode(ApiContext& ctx, http::Request& req);
Result<http::Response> GetNodeDetails(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateNode(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteNode(ApiContext& ctx, http::Request& req);
Result<http::Response> NodesSummary(ApiContext& ctx, http::Request& req);

// interruptions.cc — manual interventions and guided failure, space-scoped
Result<http::Response> ListInterruptions(ApiContext& ctx, http::Request& req);
Result<http::Response> GetInterruption(ApiContext& ctx, http::Request& req);
Result<http::Response> GetInterruptionResponsible(ApiContext& ctx, http::Request& req);
Result<http::Response> TakeInterruptionResponsibility(ApiContext& ctx, http::Request& req);
Result<http::Response> SubmitInterruption(ApiContext& ctx, http::Request& req);

// tasks.cc — every handler serves both /api/tasks/... and /api/{spaceId}/tasks/...
Result<http::Response> ListTasks(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateTask(ApiContext& ctx, http::Request& req);
Result<http::Response> GetTask(ApiContext& ctx, http::Request& req);
Result<http::Response> GetTaskDetails(ApiContext& ctx, http::Request& req);
Result<http::Response> GetTaskRaw(ApiContext& ctx, http::Request& req);
Result<http::Response> CancelTask(ApiContext& ctx, http::Request& req);
Result<http::Response> RerunTask(ApiContext& ctx, http::Request& req);

// artifacts.cc
Result<http::Response> ListArtifacts(ApiContext& ctx, http::Request& req);
Result<http::Response> GetArtifact(ApiContext& ctx, http::Request& req);
Result<http::Response> GetArtifactContent(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteArtifact(ApiContext& ctx, http::Request& req);

// packages.cc — every handler serves both /api/packages/... and /api/{spaceId}/packages/...
Result<http::Response> UploadPackage(ApiContext& ctx, http::Request& req);  // a stream_body route
Result<http::Response> ListPackages(ApiContext& ctx, http::Request& req);
Result<http::Response> GetPackage(ApiContext& ctx, http::Request& req);
Result<http::Response> GetPackageRaw(ApiContext& ctx, http::Request& req);
Result<http::Response> DeletePackage(ApiContext& ctx, http::Request& req);
Result<http::Response> ListFeeds(ApiContext& ctx, http::Request& req);
Result<http::Response> GetFeed(ApiContext& ctx, http::Request& req);
Result<http::Response> ListFeedPackageVersions(ApiContext& ctx, http::Request& req);
// Reads the first file part of a streamed multipart body into the store (Octopus and NuGet push).
Result<feed::UploadResult> ReceivePackage(ApiContext& ctx, http::Request& req,
                                          const std::string& space_id, feed::OverwriteMode mode);
// A package download: Content-Length, ETag (the SHA-256), If-None-Match and single Range requests.
Result<http::Response> ServePackageFile(ApiContext& ctx, const http::Request& req,
                                        const feed::Package& p, std::string_view content_type);

// nuget.cc — the NuGet v2 feed at /nuget/packages and /{spaceId}/nuget/packages; reads anonymous
Result<http::Response> NuGetServiceDocument(ApiContext& ctx, http::Request& req);
Result<http::Response> NuGetQuery(ApiContext& ctx, http::Request& req);  // $metadata, Search()...
Result<http::Response> NuGetDownload(ApiContext& ctx, http::Request& req);
Result<http::Response> NuGetPush(ApiContext& ctx, http::Request& req);  // a stream_body route
Result<http::Response> NuGetDelete(ApiContext& ctx, http::Request& req);

// projects.cc — projects (by id or slug) and channels
Result<http::Response> ListProjects(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllProjects(ApiContext& ctx, http::Request& req);
Result<http::Response> ListProjectGroupProjects(ApiContext& ctx, http::Request& req);
Result<http::Response> GetProject(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateProject(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateProject(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteProject(ApiContext& ctx, http::Request& req);
Result<http::Response> ListChannels(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllChannels(ApiContext& ctx, http::Request& req);
Result<http::Response> ListProjectChannels(ApiContext& ctx, http::Request& req);
Result<http::Response> GetChannel(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateChannel(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateChannel(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteChannel(ApiContext& ctx, http::Request& req);

// processes.cc — deployment processes
Result<http::Response> GetDeploymentProcess(ApiContext& ctx, http::Request& req);
Result<http::Response> GetProjectDeploymentProcess(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateDeploymentProcess(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateProjectDeploymentProcess(ApiContext& ctx, http::Request& req);
// Saves the request's Steps into process `process_id` of `space` if the body's Version is still
// the stored one (else 409, nothing changed), writing the Modified event; returns the process
// resource. `what` names it in messages ("deployment process", "runbook process"). Runbook
// processes use it too.
Result<nlohmann::json> SaveProcess(ApiContext& ctx, http::Request& req, const std::string& space,
                                   const std::string& process_id, std::string_view what);

// variables.cc — variable sets and library variable sets
Result<http::Response> GetVariableSet(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateVariableSet(ApiContext& ctx, http::Request& req);
Result<http::Response> ListVariableNames(ApiContext& ctx, http::Request& req);
Result<http::Response> ListLibraryVariableSets(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllLibraryVariableSets(ApiContext& ctx, http::Request& req);
Result<http::Response> GetLibraryVariableSet(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateLibraryVariableSet(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateLibraryVariableSet(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteLibraryVariableSet(ApiContext& ctx, http::Request& req);

// environments.cc — space-scoped
Result<http::Response> ListEnvironments(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllEnvironments(ApiContext& ctx, http::Request& req);
Result<http::Response> GetEnvironment(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateEnvironment(ApiContext& ctx, http::Request& req);
Result<http::Response> ModifyEnvironment(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteEnvironment(ApiContext& ctx, http::Request& req);
Result<http::Response> GetEnvironmentSortOrder(ApiContext& ctx, http::Request& req);
Result<http::Response> SortEnvironments(ApiContext& ctx, http::Request& req);

// lifecycles.cc — space-scoped
Result<http::Response> ListLifecycles(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllLifecycles(ApiContext& ctx, http::Request& req);
Result<http::Response> GetLifecycle(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateLifecycle(ApiContext& ctx, http::Request& req);
Result<http::Response> ModifyLifecycle(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteLifecycle(ApiContext& ctx, http::Request& req);

// project_groups.cc — space-scoped
Result<http::Response> ListProjectGroups(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllProjectGroups(ApiContext& ctx, http::Request& req);
Result<http::Response> GetProjectGroup(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateProjectGroup(ApiContext& ctx, http::Request& req);
Result<http::Response> ModifyProjectGroup(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteProjectGroup(ApiContext& ctx, http::Request& req);

// machines.cc — space-scoped
Result<http::Response> ListMachinePolicies(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllMachinePolicies(ApiContext& ctx, http::Request& req);
Result<http::Response> GetMachinePolicy(ApiContext& ctx, http::Request& req);
Result<http::Response> ListMachines(ApiContext& ctx, http::Request& req);
Result<http::Response> ListAllMachines(ApiContext& ctx, http::Request& req);
Result<http::Response> ListEnvironmentMachines(ApiContext& ctx, http::Request& req);
Result<http::Response> GetMachine(ApiContext& ctx, http::Request& req);
Result<http::Response> EnvironmentsSummary(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateMachine(ApiContext& ctx, http::Request& req);
Result<http::Response> ModifyMachine(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteMachine(ApiContext& ctx, http::Request& req);

// events.cc — /api/events (every space, or `spaces=`) and /api/{spaceId}/events (that space)
Result<http::Response> ListEvents(ApiContext& ctx, http::Request& req);
Result<http::Response> GetEvent(ApiContext& ctx, http::Request& req);
Result<http::Response> ListEventCategories(ApiContext& ctx, http::Request& req);
Result<http::Response> ListEventDocumentTypes(ApiContext& ctx, http::Request& req);

}  // namespace cuttle::api
