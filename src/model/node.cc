#include "model/node.h"

#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

json NodeJson(const repo::NodeRow& n) {
  return {{"Id", n.id},
          {"Name", n.name},
          {"MaxConcurrentTasks", n.max_concurrent_tasks},
          {"IsInMaintenanceMode", n.is_in_maintenance_mode},
          {"LastSeen", core::FormatIso8601(n.last_seen)},
          {"IsOffline", n.is_offline},
          {"RunningTaskCount", n.running_task_count},
          {"Version", n.version},
          {"LastModifiedOn",
           n.last_modified_on ? json(core::FormatIso8601(*n.last_modified_on)) : json(nullptr)},
          {"LastModifiedBy", n.last_modified_by ? json(*n.last_modified_by) : json(nullptr)},
          {"Links",
           {{"Self", "/api/octopusservernodes/" + n.id},
            {"Details", "/api/octopusservernodes/" + n.id + "/details"}}}};
}

}  // namespace cuttle::model
