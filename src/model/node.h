// A server node's Octopus JSON shape (OctopusServerNodeResource, reference-octopus-api.md §2.9).
// Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "repo/nodes.h"

namespace cuttle::model {

nlohmann::json NodeJson(const repo::NodeRow& n);

}  // namespace cuttle::model
