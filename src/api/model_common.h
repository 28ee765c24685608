// What the deployment-model handlers (projects, channels, processes, variables) share: laying a
// PUT body over the stored resource, and the hooks through which the release model removes what
// it owns before a project or channel goes.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "db/database.h"
#include "repo/channels.h"
#include "repo/projects.h"

namespace cuttle::api {

// Sets every key of `patch` on `base`, replacing a key `base` spells in another case (clients send
// camelCase or PascalCase), so a PUT that leaves a field out keeps its stored value.
void OverlayJson(nlohmann::json& base, const nlohmann::json& patch);

// Deletes (or refuses, with an error) what the release model keeps for a project or a channel
// (releases, deployments, runbooks), inside the transaction that deletes it. Defined in
// model_common.cc; the release model fills them in.
Result<void> DeleteProjectDependents(db::Transaction& tx, const repo::ProjectRow& project);
Result<void> DeleteChannelDependents(db::Transaction& tx, const repo::ChannelRow& channel);

}  // namespace cuttle::api
