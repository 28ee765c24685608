#include "api/model_common.h"

#include "core/strings.h"
#include "repo/releases.h"

namespace cuttle::api {

void OverlayJson(nlohmann::json& base, const nlohmann::json& patch) {
  if (!base.is_object() || !patch.is_object()) return;
  for (const auto& [key, value] : patch.items()) {
    for (auto it = base.begin(); it != base.end(); ++it) {
      if (it.key() != key && core::EqualsIgnoreCase(it.key(), key)) {
        base.erase(it);
        break;
      }
    }
    base[key] = value;
  }
}

// The project's releases, deployments and runbooks go with it, unless one of its deployments or
// runbook runs is still queued or running.
Result<void> DeleteProjectDependents(db::Transaction& tx, const repo::ProjectRow& project) {
  CUTTLE_TRY(auto active, repo::ActiveProjectTask(tx, project.id));
  if (active) {
    return Fail(Error::InvalidArgument("The project " + project.name +
                                       " has a deployment or runbook run in progress (" + *active +
                                       "); cancel it before deleting the project."));
  }
  return repo::DeleteProjectReleaseModel(tx, project.id);
}

// A channel that holds releases is refused, as Octopus does: its releases would lose their
// channel.
Result<void> DeleteChannelDependents(db::Transaction& tx, const repo::ChannelRow& channel) {
  CUTTLE_TRY(auto releases, repo::CountChannelReleases(tx, channel.id));
  if (releases > 0) {
    return Fail(Error::InvalidArgument("The channel " + channel.name + " has " +
                                       std::to_string(releases) +
                                       " release(s): delete them, or keep the channel."));
  }
  return {};
}

}  // namespace cuttle::api
