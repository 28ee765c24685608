// An artifact's Octopus JSON shape (ArtifactResource). Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "tasks/artifacts.h"

namespace cuttle::model {

nlohmann::json ArtifactJson(const tasks::Artifact& a);

}  // namespace cuttle::model
