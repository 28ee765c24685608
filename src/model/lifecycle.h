// Lifecycles as the deployment model reads them (reference-octopus-deployment-model.md §2.2–2.3):
// the typed lifecycle behind a repo::LifecycleRow, its Octopus JSON, and ResolvePhases, which says
// which environments each phase stands for. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/environments.h"
#include "repo/lifecycles.h"

namespace cuttle::model {

struct RetentionPolicy {
  int64_t quantity_to_keep = 0;  // 0 with should_keep_forever: keep everything
  bool should_keep_forever = true;
  std::string unit = "Days";  // Days | Items
};

struct Phase {
  std::string id;  // assigned by the server
  std::string name;
  std::vector<std::string> automatic_deployment_targets;  // environment ids
  std::vector<std::string> optional_deployment_targets;   // environment ids
  int64_t minimum_environments_before_promotion = 0;      // 0: every environment of the phase
  bool is_optional_phase = false;
  bool is_priority_phase = false;
  std::optional<RetentionPolicy> release_retention_policy;  // nullopt: inherit
  std::optional<RetentionPolicy> tentacle_retention_policy;
  nlohmann::json extra = nlohmann::json::object();  // properties Cuttle does not know
};

struct Lifecycle {
  std::string id;
  std::string space_id;
  std::string name;
  std::string description;
  std::string slug;  // empty: derived from the name
  std::vector<Phase> phases;
  RetentionPolicy release_retention_policy;
  RetentionPolicy tentacle_retention_policy;
  nlohmann::json extra = nlohmann::json::object();
};

// The properties of a lifecycle and of a phase that Lifecycle/Phase hold in typed fields.
inline constexpr std::string_view kLifecycleFields[] = {
    "Name", "Description", "Slug", "Phases", "ReleaseRetentionPolicy", "TentacleRetentionPolicy"};
inline constexpr std::string_view kPhaseFields[] = {"Name",
                                                    "AutomaticDeploymentTargets",
                                                    "OptionalDeploymentTargets",
                                                    "MinimumEnvironmentsBeforePromotion",
                                                    "IsOptionalPhase",
                                                    "IsPriorityPhase",
                                                    "ReleaseRetentionPolicy",
                                                    "TentacleRetentionPolicy"};

// Stored row <-> typed lifecycle. The row's document was written by LifecycleToRow; a property of
// the wrong type reads as its default.
Lifecycle LifecycleFromRow(const repo::LifecycleRow& row);
repo::LifecycleRow LifecycleToRow(const Lifecycle& lifecycle);

// Every environment id the phases name, each once, in phase order.
std::vector<std::string> NamedEnvironments(const Lifecycle& lifecycle);

nlohmann::json RetentionJson(const RetentionPolicy& r);
nlohmann::json LifecycleJson(const Lifecycle& lifecycle);

// A phase and the environments it stands for.
struct ResolvedPhase {
  Phase phase;  // as configured; for a lifecycle without phases, one made for the environment
  std::vector<std::string> environment_ids;  // in the space's sort order
};

// The phases a release moves through, given the space's environments in sort order:
//  - a phase's environments are its automatic and optional targets (those that exist);
//  - a phase naming no environment stands for every environment not named by an earlier phase;
//  - a lifecycle without phases is one phase per environment, in sort order (named after the
//    environment, with it as the optional target; such phases are not optional).
std::vector<ResolvedPhase> ResolvePhases(
    const std::vector<Phase>& phases,
    const std::vector<repo::EnvironmentRow>& environments_in_sort_order);

}  // namespace cuttle::model
