// An environment's Octopus JSON shape (reference-octopus-deployment-model.md §2.1).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "repo/environments.h"

namespace cuttle::model {

// The properties the binder reads into EnvironmentRow's columns; the rest go to `extra`.
inline constexpr std::string_view kEnvironmentFields[] = {
    "Name", "Description", "SortOrder", "UseGuidedFailure", "AllowDynamicInfrastructure"};

nlohmann::json EnvironmentJson(const repo::EnvironmentRow& e);

}  // namespace cuttle::model
