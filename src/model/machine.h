// A deployment target's Octopus JSON shape (reference-octopus-deployment-model.md §2.12).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "repo/machines.h"

namespace cuttle::model {

// The endpoint kinds Cuttle runs steps on: "None" is Octopus's cloud region (steps run on the
// built-in worker); "TentacleActive" a polling agent (issue 12 registers them).
inline constexpr const char* kCommunicationStyles[] = {"None", "TentacleActive"};
inline constexpr const char* kHealthStatuses[] = {"Healthy", "Unhealthy", "HasWarnings",
                                                  "Unavailable", "Unknown"};

inline constexpr std::string_view kMachineFields[] = {"Name",
                                                      "Roles",
                                                      "EnvironmentIds",
                                                      "IsDisabled",
                                                      "MachinePolicyId",
                                                      "HealthStatus",
                                                      "Endpoint",
                                                      "Status",
                                                      "StatusSummary",
                                                      "Thumbprint",
                                                      "Uri",
                                                      "HasLatestCalamari",
                                                      "IsInProcess",
                                                      "LastContact"};

// The document key beside "StatusSummary" naming the HealthStatus the summary was written for
// (by the Health task); the summary is shown only while the machine still has that status. Not
// part of the machine's JSON.
inline constexpr const char* kStatusSummaryOf = "StatusSummaryOf";

nlohmann::json MachineJson(const repo::MachineRow& m);

}  // namespace cuttle::model
