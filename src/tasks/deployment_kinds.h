// The task kinds that releases and runbooks queue: Deploy (a deployment, api/deployments.cc) and
// RunbookRun (a runbook run, api/runbooks.cc). Executing steps is the deployment engine's
// (issue 11); until it arrives, a task whose frozen process has no step to run in its environment
// succeeds at once (as Octopus does), and any other fails saying that step execution is not
// there yet.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "db/database.h"
#include "tasks/task_kinds.h"

namespace cuttle::tasks {

// The actions of a frozen process that would run: not disabled, not skipped, and scoped to the
// environment and channel (reference-octopus-deployment-model.md §3.1).
int RunnableActions(const nlohmann::json& steps, const std::string& environment_id,
                    const std::string& channel_id, const nlohmann::json& skip_actions);

// Registers Deploy and RunbookRun in `kinds`; their run functions read the deployment or run
// from `db`, which must outlive the registry.
Result<void> RegisterDeploymentKinds(TaskKinds& kinds, db::Database& db);

}  // namespace cuttle::tasks
