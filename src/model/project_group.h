// A project group's Octopus JSON shape (reference-octopus-deployment-model.md §2.5).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "repo/project_groups.h"

namespace cuttle::model {

inline constexpr std::string_view kProjectGroupFields[] = {"Name", "Description", "EnvironmentIds",
                                                           "RetentionPolicyId"};

nlohmann::json ProjectGroupJson(const repo::ProjectGroupRow& g);

}  // namespace cuttle::model
