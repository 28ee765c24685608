// A machine policy's Octopus JSON shape (reference-octopus-deployment-model.md §2.12): the stored
// settings over Octopus's defaults.
#pragma once

#include <nlohmann/json.hpp>

#include "repo/machine_policies.h"

namespace cuttle::model {

nlohmann::json MachinePolicyJson(const repo::MachinePolicyRow& p);

}  // namespace cuttle::model
