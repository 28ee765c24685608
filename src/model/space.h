// A space's Octopus JSON shape (reference-octopus-api.md §2.1).
#pragma once

#include <nlohmann/json.hpp>

#include "repo/spaces.h"

namespace cuttle::model {

nlohmann::json SpaceJson(const repo::SpaceRow& s);

}  // namespace cuttle::model
