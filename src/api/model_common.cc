#include "api/model_common.h"

#include "core/strings.h"

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

// release-model: delete the project's releases, deployments and runbooks (and their processes
// and snapshots) here.
Result<void> DeleteProjectDependents(db::Transaction& tx, const repo::ProjectRow& project) {
  (void)tx;
  (void)project;
  return {};
}

// release-model: refuse (or delete) the channel's releases here.
Result<void> DeleteChannelDependents(db::Transaction& tx, const repo::ChannelRow& channel) {
  (void)tx;
  (void)channel;
  return {};
}

}  // namespace cuttle::api
