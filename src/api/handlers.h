// Handler factories per resource family; routes.cc wires them into the one route table.
#pragma once

#include "api/common.h"

namespace cuttle::api {

// root.cc
http::Response GetRoot(ApiContext& ctx, http::Request& req);

// spaces.cc
http::Response ListSpaces(ApiContext& ctx, http::Request& req);
http::Response ListAllSpaces(ApiContext& ctx, http::Request& req);
http::Response GetSpace(ApiContext& ctx, http::Request& req);

// users.cc
http::Response GetCurrentUser(const repo::UserRow& user);

// nodes.cc
http::Response PingNode(ApiContext& ctx, http::Request& req);
http::Response ListNodes(ApiContext& ctx, http::Request& req);
http::Response ListAllNodes(ApiContext& ctx, http::Request& req);
http::Response GetNode(ApiContext& ctx, http::Request& req);
http::Response GetNodeDetails(ApiContext& ctx, http::Request& req);
http::Response UpdateNode(ApiContext& ctx, http::Request& req, const repo::UserRow& user);
http::Response DeleteNode(ApiContext& ctx, http::Request& req);
http::Response NodesSummary(ApiContext& ctx, http::Request& req);

// tasks.cc — every handler serves both /api/tasks/... and /api/{spaceId}/tasks/...
http::Response ListTasks(ApiContext& ctx, http::Request& req);
http::Response CreateTask(ApiContext& ctx, http::Request& req, const repo::UserRow& user);
http::Response GetTask(ApiContext& ctx, http::Request& req);
http::Response GetTaskDetails(ApiContext& ctx, http::Request& req);
http::Response GetTaskRaw(ApiContext& ctx, http::Request& req);
http::Response CancelTask(ApiContext& ctx, http::Request& req);
http::Response RerunTask(ApiContext& ctx, http::Request& req, const repo::UserRow& user);

// artifacts.cc
http::Response ListArtifacts(ApiContext& ctx, http::Request& req);
http::Response GetArtifact(ApiContext& ctx, http::Request& req);
http::Response GetArtifactContent(ApiContext& ctx, http::Request& req);
http::Response DeleteArtifact(ApiContext& ctx, http::Request& req);

// The space of a space-scoped route ("spaceId" capture), or the default space for an unscoped
// one; 404 if the space does not exist.
Result<std::string> SpaceOf(ApiContext& ctx, const http::Request& req);

}  // namespace cuttle::api
