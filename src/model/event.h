// An audit event's Octopus JSON shape (reference-octopus-deployment-model.md §2.14), and the
// categories Cuttle writes.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "repo/events.h"

namespace cuttle::model {

// The categories api::RecordEvent is called with ("Created", "Modified", "Deleted", ...).
inline constexpr std::string_view kEventCategories[] = {
    "Created",           "Modified",
    "Deleted",           "DeploymentQueued",
    "DeploymentStarted", "DeploymentSucceeded",
    "DeploymentFailed",  "TaskCanceled",
    "RunbookRunQueued",  "InterruptionSubmitted",
    "LoginBanned"};  // a user locked after too many failed sign-ins (auth/sessions.h)

nlohmann::json EventJson(const repo::EventRow& e);

}  // namespace cuttle::model
