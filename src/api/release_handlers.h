// Handlers of the release-model families: releases, deployments, the dashboard and runbooks
// (releases.cc, deployments.cc, runbooks.cc). Kept apart from handlers.h so the families that
// arrive together in issue 10 each add their own header.
#pragma once

#include "api/kit.h"
#include "db/database.h"
#include "repo/projects.h"
#include "repo/releases.h"

namespace cuttle::api {

// releases.cc
Result<http::Response> ListReleases(ApiContext& ctx, http::Request& req);
Result<http::Response> ListProjectReleases(ApiContext& ctx, http::Request& req);
Result<http::Response> GetProjectReleaseByVersion(ApiContext& ctx, http::Request& req);
Result<http::Response> ListChannelReleases(ApiContext& ctx, http::Request& req);
Result<http::Response> GetRelease(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateRelease(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateReleaseV1(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateRelease(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteRelease(ApiContext& ctx, http::Request& req);
Result<http::Response> SnapshotReleaseVariables(ApiContext& ctx, http::Request& req);
Result<http::Response> GetReleaseProgression(ApiContext& ctx, http::Request& req);
Result<http::Response> GetReleaseDeploymentTemplate(ApiContext& ctx, http::Request& req);
Result<http::Response> ListReleaseDeployments(ApiContext& ctx, http::Request& req);

// Freezes the project's current variables into `release` (in `tx`, with its event): what
// POST /releases/{id}/snapshot-variables does, and a deployment's UpdateVariableSnapshot. A release
// edited since it was read is refused (409).
Result<void> ResnapshotReleaseVariables(db::Transaction& tx, const http::Request& req,
                                        const std::string& space, const repo::ProjectRow& project,
                                        const repo::ReleaseRow& release);

// deployments.cc
Result<http::Response> ListDeployments(ApiContext& ctx, http::Request& req);
Result<http::Response> GetDeployment(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateDeployment(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateDeploymentUntenantedV1(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteDeployment(ApiContext& ctx, http::Request& req);
Result<http::Response> GetDashboard(ApiContext& ctx, http::Request& req);

// runbooks.cc
Result<http::Response> ListRunbooks(ApiContext& ctx, http::Request& req);
Result<http::Response> GetRunbook(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateRunbook(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateRunbook(ApiContext& ctx, http::Request& req);
Result<http::Response> DeleteRunbook(ApiContext& ctx, http::Request& req);
Result<http::Response> GetRunbookProcess(ApiContext& ctx, http::Request& req);
Result<http::Response> UpdateRunbookProcess(ApiContext& ctx, http::Request& req);
Result<http::Response> ListRunbookSnapshots(ApiContext& ctx, http::Request& req);
Result<http::Response> GetRunbookSnapshot(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateRunbookSnapshot(ApiContext& ctx, http::Request& req);
Result<http::Response> CreateRunbookRunV1(ApiContext& ctx, http::Request& req);
Result<http::Response> ListRunbookRuns(ApiContext& ctx, http::Request& req);
Result<http::Response> GetRunbookRun(ApiContext& ctx, http::Request& req);

}  // namespace cuttle::api
