// A space's Octopus JSON shape (reference-octopus-api.md §2.1).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "repo/spaces.h"

namespace cuttle::model {

// The properties SpaceRow holds in typed fields; the rest (SpaceManagersTeams...) go to `extra`.
inline constexpr std::string_view kSpaceFields[] = {"Name", "Slug", "Description", "IsDefault",
                                                    "TaskQueueStopped"};

nlohmann::json SpaceJson(const repo::SpaceRow& s);

}  // namespace cuttle::model
