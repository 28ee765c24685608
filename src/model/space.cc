#include "model/space.h"

namespace cuttle::model {

nlohmann::json SpaceJson(const repo::SpaceRow& s) {
  return {{"Id", s.id},
          {"Name", s.name},
          {"Slug", s.slug},
          {"Description", s.description},
          {"IsDefault", s.is_default},
          {"TaskQueueStopped", s.task_queue_stopped},
          {"SpaceManagersTeams", nlohmann::json::array()},
          {"SpaceManagersTeamMembers", nlohmann::json::array({"Users-1"})},
          {"Links", {{"Self", "/api/spaces/" + s.id}, {"SpaceHome", "/api/" + s.id}}}};
}

}  // namespace cuttle::model
