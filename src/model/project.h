// A project's Octopus JSON shape (reference-octopus-deployment-model.md §2.6,
// reference-octopus-api.md §2.4) and the ids of what is created with it. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "model/document.h"  // Slugify
#include "repo/projects.h"

namespace cuttle::model {

inline constexpr const char* kDefaultVersioningTemplate =
    "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}";

// Octopus's ids for a project's singletons.
std::string DeploymentProcessIdOf(std::string_view project_id);  // "deploymentprocess-Projects-1"
std::string VariableSetIdOf(std::string_view owner_id);          // "variableset-Projects-1"

// The stored document's defaults filled in (for fields a client did not send).
nlohmann::json ProjectDefaults();

nlohmann::json ProjectJson(const repo::ProjectRow& p);

}  // namespace cuttle::model
