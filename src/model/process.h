// Deployment and runbook processes (reference-octopus-deployment-model.md §2.7): the JSON shape,
// and the normalization of a Steps[] array a client sent. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "repo/processes.h"

namespace cuttle::model {

// The documents a process names, for the API to check they exist in the process's space.
struct ProcessReferences {
  std::set<std::string> environments;  // Environments[] and ExcludedEnvironments[] of actions
  std::set<std::string> channels;      // Channels[] of actions
};

// Returns `steps` as they are stored: server-assigned GUIDs for steps, actions and package
// references whose Id is blank, slugs filled in, enums checked and spelled canonically, defaults
// for missing fields, property values as strings; any other keys a client sent are kept (Links are
// dropped: they are rebuilt on every read). Every problem is appended to `problems`, named by its
// place ("Steps[1].Actions[0].ActionType ..."); references go to `refs`.
nlohmann::json NormalizeSteps(const nlohmann::json& steps, std::vector<std::string>& problems,
                              ProcessReferences& refs);

// The process resource: Id, ProjectId (or RunbookId), SpaceId, Version, LastSnapshotId, Steps,
// Links.
nlohmann::json ProcessJson(const repo::ProcessRow& p);

}  // namespace cuttle::model
