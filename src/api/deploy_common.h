// What releases, deployments, runbooks and the dashboard share: finding a project, channel or
// environment as the clients name them, and a release's lifecycle as promotion phases.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/kit.h"
#include "model/promotion.h"
#include "repo/channels.h"
#include "repo/environments.h"
#include "repo/lifecycles.h"
#include "repo/projects.h"
#include "repo/releases.h"

namespace cuttle::api {

// A project of the space by id, slug or (case-insensitive) name; nullopt if none.
Result<std::optional<repo::ProjectRow>> ResolveProject(ApiContext& ctx, const std::string& space,
                                                       const std::string& ref);
// An environment of the space by id or (case-insensitive) name; nullopt if none.
Result<std::optional<repo::EnvironmentRow>> ResolveEnvironment(ApiContext& ctx,
                                                               const std::string& space,
                                                               const std::string& ref);
// The project's channel named by id or name, or its default channel when `ref` is empty.
Result<std::optional<repo::ChannelRow>> ResolveChannel(ApiContext& ctx, const std::string& space,
                                                       const repo::ProjectRow& project,
                                                       const std::string& ref);

struct Lifecycle {
  std::string id;
  std::string name;
  std::vector<model::PromotionPhase> phases;
  std::vector<std::string> phase_ids;  // beside `phases`
};
// The lifecycle a release of `channel` follows (the channel's, else the project's), with its
// phases expanded to environments.
Result<Lifecycle> LoadLifecycle(ApiContext& ctx, const std::string& space,
                                const repo::ProjectRow& project, const repo::ChannelRow& channel);

// The space's environments in sort order.
Result<std::vector<repo::EnvironmentRow>> SpaceEnvironments(ApiContext& ctx,
                                                            const std::string& space);
// A stored lifecycle's phases with their environments (model::ResolvePhases), as promotion
// phases.
Lifecycle LifecyclePhases(const repo::LifecycleRow& row,
                          const std::vector<repo::EnvironmentRow>& environments);

// Everything a deployment needs, checked before anything is written.
struct DeployPlan {
  repo::ProjectRow project;
  repo::ReleaseRow release;
  repo::EnvironmentRow environment;
};
// What the lifecycle check needs of a release: its lifecycle and the environments it succeeded in.
struct ReleaseGate {
  Lifecycle lifecycle;
  std::set<std::string> succeeded;
};
using GateLoader = std::function<Result<ReleaseGate>(const DeployPlan&)>;
// Refuses the first plan whose project is disabled or whose environment the release's lifecycle
// does not open yet, naming the phase that blocks it. `load` is called once per release however
// many of the plans deploy it (one release to several environments loads its lifecycle once).
Result<void> CheckDeployable(const std::vector<DeployPlan>& plans, const GateLoader& load);

// A release's or runbook snapshot's frozen variables: the copy of the project's variable set and
// of each library set it includes (repo::FreezeVariableSets), all owned by `owner`.
struct FrozenVariables {
  std::string project_set;
  std::vector<std::string> library_sets;  // in the project's order of inclusion
};
Result<FrozenVariables> FreezeProjectVariables(db::Transaction& tx, const std::string& space,
                                               const repo::ProjectRow& project,
                                               const std::string& owner);

}  // namespace cuttle::api
