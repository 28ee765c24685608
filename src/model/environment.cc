#include "model/environment.h"

#include "model/document.h"

namespace cuttle::model {

nlohmann::json EnvironmentJson(const repo::EnvironmentRow& e) {
  const std::string self = "/api/" + e.space_id + "/environments/" + e.id;
  nlohmann::json doc = {{"Id", e.id},
                        {"SpaceId", e.space_id},
                        {"Name", e.name},
                        {"Description", e.description},
                        {"SortOrder", e.sort_order},
                        {"UseGuidedFailure", e.use_guided_failure},
                        {"AllowDynamicInfrastructure", e.allow_dynamic_infrastructure},
                        {"Links",
                         {{"Self", self},
                          {"Machines", self + "/machines{?skip,take,partialName,roles,isDisabled,"
                                              "healthStatuses,commStyles,tenantIds,tenantTags}"}}}};
  AddExtras(doc, e.extra);
  if (!doc.contains("Slug")) doc["Slug"] = Slugify(e.name);
  if (!doc.contains("ExtensionSettings")) doc["ExtensionSettings"] = nlohmann::json::array();
  return doc;
}

}  // namespace cuttle::model
