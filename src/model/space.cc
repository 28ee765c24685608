#include "model/space.h"

#include "model/document.h"

namespace cuttle::model {

nlohmann::json SpaceJson(const repo::SpaceRow& s) {
  nlohmann::json doc = {
      {"Id", s.id},
      {"Name", s.name},
      {"Slug", s.slug},
      {"Description", s.description},
      {"IsDefault", s.is_default},
      {"TaskQueueStopped", s.task_queue_stopped},
      {"Links", {{"Self", "/api/spaces/" + s.id}, {"SpaceHome", "/api/" + s.id}}}};
  AddExtras(doc, s.extra);
  if (!doc.contains("SpaceManagersTeams")) doc["SpaceManagersTeams"] = nlohmann::json::array();
  if (!doc.contains("SpaceManagersTeamMembers")) {
    doc["SpaceManagersTeamMembers"] = nlohmann::json::array({"Users-1"});
  }
  return doc;
}

}  // namespace cuttle::model
