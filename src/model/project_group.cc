#include "model/project_group.h"

#include "model/document.h"

namespace cuttle::model {

nlohmann::json ProjectGroupJson(const repo::ProjectGroupRow& g) {
  const std::string self = "/api/" + g.space_id + "/projectgroups/" + g.id;
  nlohmann::json doc = {
      {"Id", g.id},
      {"SpaceId", g.space_id},
      {"Name", g.name},
      {"Description", g.description},
      {"EnvironmentIds", g.environment_ids},
      {"RetentionPolicyId",
       g.retention_policy_id ? nlohmann::json(*g.retention_policy_id) : nlohmann::json()},
      {"Links", {{"Self", self}, {"Projects", self + "/projects{?skip,take}"}}}};
  AddExtras(doc, g.extra);
  return doc;
}

}  // namespace cuttle::model
