#include "api/deploy_common.h"

#include <map>
#include <set>

#include "core/strings.h"
#include "model/lifecycle.h"
#include "model/project.h"
#include "repo/variable_sets.h"

namespace cuttle::api {

using nlohmann::json;

Result<std::optional<repo::ProjectRow>> ResolveProject(ApiContext& ctx, const std::string& space,
                                                       const std::string& ref) {
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, ref));
  if (project) return project;
  repo::ProjectFilter f;
  f.space_id = space;
  f.name = ref;
  CUTTLE_TRY(auto named, repo::ListAllProjects(ctx.db, f, repo::PageQuery{}));
  if (named.empty()) return std::optional<repo::ProjectRow>();
  return std::optional<repo::ProjectRow>(std::move(named.front()));
}

Result<std::optional<repo::EnvironmentRow>> ResolveEnvironment(ApiContext& ctx,
                                                               const std::string& space,
                                                               const std::string& ref) {
  CUTTLE_TRY(auto env, repo::FindEnvironment(ctx.db, space, ref));
  if (env) return env;
  repo::EnvironmentFilter f;
  f.space_id = space;
  f.name = ref;
  CUTTLE_TRY(auto named, repo::ListAllEnvironments(ctx.db, f, repo::PageQuery{}));
  if (named.empty()) return std::optional<repo::EnvironmentRow>();
  return std::optional<repo::EnvironmentRow>(std::move(named.front()));
}

Result<std::optional<repo::ChannelRow>> ResolveChannel(ApiContext& ctx, const std::string& space,
                                                       const repo::ProjectRow& project,
                                                       const std::string& ref) {
  repo::ChannelFilter f;
  f.space_id = space;
  f.project_id = project.id;
  CUTTLE_TRY(auto channels, repo::ListAllChannels(ctx.db, f, repo::PageQuery{}));
  for (auto& c : channels) {
    if (ref.empty() ? c.is_default
                    : (core::EqualsIgnoreCase(c.id, ref) || core::EqualsIgnoreCase(c.name, ref))) {
      return std::optional<repo::ChannelRow>(std::move(c));
    }
  }
  return std::optional<repo::ChannelRow>();
}

Result<void> CheckDeployable(const std::vector<DeployPlan>& plans, const GateLoader& load) {
  std::map<std::string, ReleaseGate> gates;  // by release id
  for (const auto& plan : plans) {
    if (repo::ProjectIsDisabled(plan.project)) {
      return Fail(Error::InvalidArgument("The project " + plan.project.name +
                                         " is disabled: it cannot be deployed."));
    }
    auto gate = gates.find(plan.release.id);
    if (gate == gates.end()) {
      CUTTLE_TRY(auto loaded, load(plan));
      gate = gates.emplace(plan.release.id, std::move(loaded)).first;
    }
    const ReleaseGate& g = gate->second;
    auto refusal =
        model::PromotionRefusal(g.lifecycle.phases, g.succeeded, plan.environment.id,
                                plan.environment.name, plan.release.version, g.lifecycle.name);
    if (refusal) return Fail(Error::InvalidArgument(*refusal));
  }
  return {};
}

Result<FrozenVariables> FreezeProjectVariables(db::Transaction& tx, const std::string& space,
                                               const repo::ProjectRow& project,
                                               const std::string& owner) {
  std::vector<std::string> sets{model::VariableSetIdOf(project.id)};
  for (const auto& lvs : project.included_library_variable_set_ids) {
    sets.push_back(model::VariableSetIdOf(lvs));
  }
  CUTTLE_TRY(auto frozen, repo::FreezeVariableSets(tx, space, owner, sets));
  FrozenVariables out;
  out.project_set = frozen.front();
  out.library_sets.assign(frozen.begin() + 1, frozen.end());
  return out;
}

Result<std::vector<repo::EnvironmentRow>> SpaceEnvironments(ApiContext& ctx,
                                                            const std::string& space) {
  repo::EnvironmentFilter f;
  f.space_id = space;
  repo::PageQuery all;
  all.take = INT64_MAX;
  return repo::ListAllEnvironments(ctx.db, f, all);
}

Lifecycle LifecyclePhases(const repo::LifecycleRow& row,
                          const std::vector<repo::EnvironmentRow>& environments) {
  Lifecycle out;
  out.id = row.id;
  const model::Lifecycle lifecycle = model::LifecycleFromRow(row);
  out.name = lifecycle.name;
  for (auto& resolved : model::ResolvePhases(lifecycle.phases, environments)) {
    model::PromotionPhase p;
    p.name = resolved.phase.name;
    p.environment_ids = std::move(resolved.environment_ids);
    p.minimum_environments_before_promotion =
        static_cast<int>(resolved.phase.minimum_environments_before_promotion);
    p.is_optional = resolved.phase.is_optional_phase;
    out.phases.push_back(std::move(p));
    out.phase_ids.push_back(resolved.phase.id);
  }
  return out;
}

Result<Lifecycle> LoadLifecycle(ApiContext& ctx, const std::string& space,
                                const repo::ProjectRow& project, const repo::ChannelRow& channel) {
  const std::string id = channel.lifecycle_id.value_or(project.lifecycle_id);
  CUTTLE_TRY(auto row, repo::FindLifecycle(ctx.db, space, id));
  if (!row) return Fail(Error::NotFound("lifecycle", id));
  CUTTLE_TRY(auto environments, SpaceEnvironments(ctx, space));
  return LifecyclePhases(*row, environments);
}

}  // namespace cuttle::api
