#include "model/project.h"

namespace cuttle::model {

std::string DeploymentProcessIdOf(std::string_view project_id) {
  return "deploymentprocess-" + std::string(project_id);
}

std::string VariableSetIdOf(std::string_view owner_id) {
  return "variableset-" + std::string(owner_id);
}

nlohmann::json ProjectDefaults() {
  using nlohmann::json;
  return {{"Description", ""},
          {"IsDisabled", false},
          {"VersioningStrategy",
           {{"Template", kDefaultVersioningTemplate},
            {"DonorPackage", nullptr},
            {"DonorPackageStepId", nullptr}}},
          {"TenantedDeploymentMode", "Untenanted"},
          {"DefaultGuidedFailureMode", "EnvironmentDefault"},
          {"ReleaseCreationStrategy",
           {{"ReleaseCreationPackage", nullptr},
            {"ChannelId", nullptr},
            {"ReleaseCreationPackageStepId", nullptr}}},
          {"Templates", json::array()},
          {"AutoDeployReleaseOverrides", json::array()},
          {"AutoCreateRelease", false},
          {"DiscreteChannelRelease", false},
          {"DefaultToSkipIfAlreadyInstalled", false},
          {"ProjectConnectivityPolicy",
           {{"SkipMachineBehavior", "None"},
            {"TargetRoles", json::array()},
            {"AllowDeploymentsToNoTargets", false},
            {"ExcludeUnhealthyTargets", false}}},
          {"ReleaseNotesTemplate", nullptr},
          {"ClonedFromProjectId", nullptr},
          {"ExtensionSettings", json::array()},
          {"ProjectTags", json::array()}};
}

nlohmann::json ProjectJson(const repo::ProjectRow& p) {
  nlohmann::json j = ProjectDefaults();
  for (const auto& [key, value] : p.doc.items()) j[key] = value;
  const std::string base = "/api/" + p.space_id;
  const std::string self = base + "/projects/" + p.id;
  j["Id"] = p.id;
  j["SpaceId"] = p.space_id;
  j["Name"] = p.name;
  j["Slug"] = p.slug;
  j["ProjectGroupId"] = p.project_group_id;
  j["LifecycleId"] = p.lifecycle_id;
  j["DeploymentProcessId"] = DeploymentProcessIdOf(p.id);
  j["VariableSetId"] = VariableSetIdOf(p.id);
  j["IncludedLibraryVariableSetIds"] = p.included_library_variable_set_ids;
  j["IsVersionControlled"] = false;
  j["PersistenceSettings"] = {{"Type", "Database"}};
  j["Links"] = {{"Self", self},
                {"Releases", self + "/releases{/version}{?skip,take,searchByVersion}"},
                {"Channels", self + "/channels{?skip,take,partialName}"},
                {"DeploymentProcess", self + "/deploymentprocesses"},
                {"Variables", base + "/variables/" + VariableSetIdOf(p.id)},
                {"Progression", self + "/progression"},
                {"Runbooks", self + "/runbooks{?skip,take,partialName}"},
                {"DeploymentSettings", self + "/deploymentsettings"},
                {"Triggers", self + "/triggers{?skip,take,partialName,triggerActionType}"},
                {"Web", "/app#/" + p.space_id + "/projects/" + p.id},
                {"Logo", self + "/logo"}};
  return j;
}

}  // namespace cuttle::model
