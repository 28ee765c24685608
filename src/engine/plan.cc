#include "engine/plan.h"

#include <algorithm>
#include <set>

#include "core/json.h"
#include "core/strings.h"

namespace cuttle::engine {

namespace {

using nlohmann::json;

std::vector<std::string> List(const json& o, std::string_view name) {
  std::vector<std::string> out;
  const json* v = core::FindKeyIgnoreCase(o, name);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : *v) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

// A comma-separated list (target roles, team ids), trimmed, blanks dropped.
std::vector<std::string> CommaList(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& part : core::Split(text, ',')) {
    auto trimmed = core::Trim(part);
    if (!trimmed.empty()) out.emplace_back(trimmed);
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& l) { return core::EqualsIgnoreCase(l, value); });
}

bool Shares(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return Contains(b, x); });
}

std::optional<size_t> PositiveInt(std::string_view text) {
  auto n = core::ParseInt(core::Trim(text));
  if (!n || *n < 1) return std::nullopt;
  return static_cast<size_t>(*n);
}

// An enum field spelled in any case; absent or null gives the first (the default).
template <class E>
std::optional<E> Enum(const json& o, std::string_view name,
                      std::initializer_list<std::pair<std::string_view, E>> values) {
  const json* v = core::FindKeyIgnoreCase(o, name);
  if (v == nullptr || v->is_null()) return values.begin()->second;
  if (!v->is_string()) return std::nullopt;
  for (const auto& [text, e] : values) {
    if (core::EqualsIgnoreCase(text, v->get<std::string>())) return e;
  }
  return std::nullopt;
}

json Properties(const json& o) {
  const json* v = core::FindKeyIgnoreCase(o, "Properties");
  return v && v->is_object() ? *v : json::object();
}

std::string HealthName(HealthStatus h) {
  switch (h) {
    case HealthStatus::kHealthy:
      return "healthy";
    case HealthStatus::kHasWarnings:
      return "healthy with warnings";
    case HealthStatus::kUnhealthy:
      return "unhealthy";
    case HealthStatus::kUnavailable:
      return "unavailable";
    case HealthStatus::kUnknown:
      break;
  }
  return "of unknown health";
}

// Plans one deployment; problems are collected so that one error names all of them.
class Planner {
 public:
  Planner(const DeploymentRequest& request, const std::vector<CandidateMachine>& machines)
      : req_(request), machines_(machines) {}

  Result<Plan> Run(const json& process);

 private:
  std::string EnvironmentName() const {
    return req_.environment_name.empty() ? req_.environment_id : req_.environment_name;
  }
  std::optional<PlannedStep> ReadStep(const json& s, int number, const std::string& place);
  std::optional<std::string> SkipReason(const json& a, bool required);
  std::optional<PlannedAction> ReadAction(const json& a, const std::string& place);
  void ReadPackages(const json& a, PlannedAction& action, const std::string& place);
  void Locate(PlannedStep& step) const;
  std::optional<std::string> SelectTargets(PlannedStep& step);
  void SkipStep(const PlannedStep& step, std::string reason, size_t first_action);
  void Exclude(const CandidateMachine& m, std::string reason);
  void Group(std::vector<PlannedStep> steps);

  const DeploymentRequest& req_;
  const std::vector<CandidateMachine>& machines_;
  Plan plan_;
  std::vector<std::string> problems_;
};

Result<Plan> Planner::Run(const json& process) {
  const json* steps = process.is_array() ? &process : core::FindKeyIgnoreCase(process, "Steps");
  if (steps == nullptr || !steps->is_array()) {
    return Fail(Error::InvalidArgument("The deployment process has no list of Steps."));
  }
  std::vector<PlannedStep> planned;
  for (size_t i = 0; i < steps->size(); ++i) {
    const std::string place = "Steps[" + std::to_string(i) + "]";
    if (!(*steps)[i].is_object()) {
      problems_.push_back(place + " must be an object.");
      continue;
    }
    auto step = ReadStep((*steps)[i], static_cast<int>(i) + 1, place);
    if (step) planned.push_back(std::move(*step));
  }
  if (problems_.size() == 1) return Fail(Error::InvalidArgument(problems_.front()));
  if (!problems_.empty()) {
    return Fail(Error::Invalid("The deployment cannot be planned.", std::move(problems_)));
  }
  Group(std::move(planned));
  return std::move(plan_);
}

std::optional<PlannedStep> Planner::ReadStep(const json& s, int number, const std::string& place) {
  PlannedStep step;
  step.number = number;
  step.id = core::StringMember(s, "Id");
  step.name = core::StringMember(s, "Name");
  step.slug = core::StringMember(s, "Slug");
  step.properties = Properties(s);
  auto condition = Enum<StepCondition>(s, "Condition",
                                       {{"Success", StepCondition::kSuccess},
                                        {"Failure", StepCondition::kFailure},
                                        {"Always", StepCondition::kAlways},
                                        {"Variable", StepCondition::kVariable}});
  if (!condition) {
    problems_.push_back(place + ".Condition is not Success, Failure, Always or Variable.");
  }
  step.condition = condition.value_or(StepCondition::kSuccess);
  auto trigger = Enum<StartTrigger>(s, "StartTrigger",
                                    {{"StartAfterPrevious", StartTrigger::kStartAfterPrevious},
                                     {"StartWithPrevious", StartTrigger::kStartWithPrevious}});
  if (!trigger) {
    problems_.push_back(place + ".StartTrigger is not StartAfterPrevious or StartWithPrevious.");
  }
  step.start_trigger = trigger.value_or(StartTrigger::kStartAfterPrevious);
  step.condition_expression =
      core::StringMember(step.properties, "Octopus.Step.ConditionVariableExpression");
  if (step.condition_expression.empty()) {
    // Older clients name the step's expression after the action (§2.7).
    step.condition_expression =
        core::StringMember(step.properties, "Octopus.Action.ConditionVariableExpression");
  }
  step.target_roles = CommaList(core::StringMember(step.properties, "Octopus.Action.TargetRoles"));
  step.max_parallelism =
      PositiveInt(core::StringMember(step.properties, "Octopus.Action.MaxParallelism"));

  const json* actions = core::FindKeyIgnoreCase(s, "Actions");
  if (actions == nullptr || !actions->is_array()) {
    problems_.push_back(place + ".Actions must be a list.");
    return std::nullopt;
  }
  const size_t first_action = plan_.actions_skipped.size();
  for (size_t j = 0; j < actions->size(); ++j) {
    const std::string a_place = place + ".Actions[" + std::to_string(j) + "]";
    auto action = ReadAction((*actions)[j], a_place);
    if (!action) continue;
    action->number = actions->size() > 1 ? std::to_string(number) + "." + std::to_string(j + 1)
                                         : std::to_string(number);
    auto reason = SkipReason((*actions)[j], action->required);
    plan_.actions_skipped.emplace_back(action->name, reason.has_value());
    if (reason) {
      plan_.skipped_actions.push_back({step.name, action->id, action->name, std::move(*reason)});
      continue;
    }
    ReadPackages((*actions)[j], *action, a_place);
    step.required = step.required || action->required;
    step.actions.push_back(std::move(*action));
  }
  if (step.actions.empty()) {
    SkipStep(step, "none of its actions runs in this deployment", first_action);
    return std::nullopt;
  }
  Locate(step);
  if (step.kind == StepKind::kTargets) {
    if (auto skip = SelectTargets(step)) {
      SkipStep(step, std::move(*skip), first_action);
      return std::nullopt;
    }
  }
  return step;
}

std::optional<PlannedAction> Planner::ReadAction(const json& a, const std::string& place) {
  if (!a.is_object()) {
    problems_.push_back(place + " must be an object.");
    return std::nullopt;
  }
  PlannedAction action;
  action.id = core::StringMember(a, "Id");
  action.name = core::StringMember(a, "Name");
  action.slug = core::StringMember(a, "Slug");
  action.action_type = core::StringMember(a, "ActionType");
  action.properties = Properties(a);
  action.required = core::FlagMember(a, "IsRequired");
  auto condition = Enum<ActionCondition>(
      a, "Condition",
      {{"Success", ActionCondition::kSuccess}, {"Variable", ActionCondition::kVariable}});
  if (!condition) problems_.push_back(place + ".Condition is not Success or Variable.");
  action.condition = condition.value_or(ActionCondition::kSuccess);
  action.condition_expression =
      core::StringMember(action.properties, "Octopus.Action.ConditionVariableExpression");
  if (action.action_type == "Octopus.Manual") {
    action.instructions =
        core::StringMember(action.properties, "Octopus.Action.Manual.Instructions");
    action.responsible_team_ids = CommaList(
        core::StringMember(action.properties, "Octopus.Action.Manual.ResponsibleTeamIds"));
    // Naming the teams that must answer makes the intervention required (§2.7).
    action.required = action.required || !action.responsible_team_ids.empty();
  }
  return action;
}

// Why an action does not run in this deployment (§3.1), or nullopt when it runs.
std::optional<std::string> Planner::SkipReason(const json& a, bool required) {
  if (core::FlagMember(a, "IsDisabled")) return "it is disabled";
  const auto environments = List(a, "Environments");
  if (!environments.empty() && !Contains(environments, req_.environment_id)) {
    return "it does not run in " + EnvironmentName();
  }
  if (Contains(List(a, "ExcludedEnvironments"), req_.environment_id)) {
    return "it is excluded from " + EnvironmentName();
  }
  const auto channels = List(a, "Channels");
  if (!req_.channel_id.empty() && !channels.empty() && !Contains(channels, req_.channel_id)) {
    return "it does not run in the release's channel";
  }
  if (Contains(req_.skip_actions, core::StringMember(a, "Id"))) {
    if (!required) return "the deployment skips it";
    // The API refuses to create such a deployment; a plan still runs what cannot be skipped.
    plan_.warnings.push_back("The action '" + core::StringMember(a, "Name") +
                             "' is required and cannot be skipped.");
  }
  return std::nullopt;
}

void Planner::ReadPackages(const json& a, PlannedAction& action, const std::string& place) {
  const json* packages = core::FindKeyIgnoreCase(a, "Packages");
  if (packages == nullptr || !packages->is_array()) return;
  for (const auto& p : *packages) {
    if (!p.is_object()) continue;
    PlannedPackage pkg{core::StringMember(p, "Name"), core::StringMember(p, "PackageId"),
                       core::StringMember(p, "FeedId"),
                       core::StringMember(p, "AcquisitionLocation"), ""};
    if (req_.selected_packages.is_array()) {
      bool found = false;
      for (const auto& s : req_.selected_packages) {
        if (core::EqualsIgnoreCase(core::StringMember(s, "ActionName"), action.name) &&
            core::EqualsIgnoreCase(core::StringMember(s, "PackageReferenceName"), pkg.name)) {
          pkg.version = core::StringMember(s, "Version");
          found = true;
          break;
        }
      }
      if (!found) {
        problems_.push_back(place + ": the release selects no version of the package '" +
                            pkg.package_id + "' for the action '" + action.name + "'.");
      }
    }
    action.packages.push_back(std::move(pkg));
  }
}

// Where each action runs and so how the step runs (§3.2's execution locations).
void Planner::Locate(PlannedStep& step) const {
  bool all_manual = true;
  for (auto& a : step.actions) {
    if (a.action_type == "Octopus.Manual") {
      a.location = ActionLocation::kManual;
    } else if (step.target_roles.empty()) {
      a.location = ActionLocation::kServer;
    } else if (core::FlagMember(a.properties, "Octopus.Action.RunOnServer")) {
      a.location = ActionLocation::kServerForTarget;
    } else {
      a.location = ActionLocation::kTarget;
    }
    all_manual = all_manual && a.location == ActionLocation::kManual;
  }
  step.kind = all_manual                  ? StepKind::kManual
              : step.target_roles.empty() ? StepKind::kServer
                                          : StepKind::kTargets;
}

// Fills the step's targets (§3.2). Returns why the step is skipped when it has none; a step whose
// roles match no enabled target in the environment is a problem unless the policy allows it.
std::optional<std::string> Planner::SelectTargets(PlannedStep& step) {
  const ConnectivityPolicy& policy = req_.policy;
  std::vector<const CandidateMachine*> in_role;
  int disabled = 0;
  for (const auto& m : machines_) {
    if (!Contains(m.environment_ids, req_.environment_id) || !Shares(m.roles, step.target_roles)) {
      continue;
    }
    if (m.disabled) {
      ++disabled;
      continue;
    }
    in_role.push_back(&m);
  }
  const std::string roles = Join(step.target_roles, ", ");
  if (in_role.empty()) {
    std::string what = "no enabled deployment target in " + EnvironmentName() +
                       " has the role(s) " + roles +
                       (disabled > 0 ? " (" + std::to_string(disabled) + " disabled)" : "");
    if (!policy.allow_deployments_to_no_targets) {
      problems_.push_back("The step '" + step.name + "' cannot run: " + what + ".");
    }
    return what;
  }
  bool health_excluded = false;
  for (const CandidateMachine* m : in_role) {
    if (!req_.specific_machine_ids.empty() && !Contains(req_.specific_machine_ids, m->id)) continue;
    if (Contains(req_.excluded_machine_ids, m->id)) continue;
    const bool unhealthy =
        m->health == HealthStatus::kUnhealthy || m->health == HealthStatus::kUnavailable;
    if (policy.exclude_unhealthy_targets && unhealthy) {
      Exclude(*m, "it is " + HealthName(m->health) + " and the project excludes unhealthy targets");
      health_excluded = true;
      continue;
    }
    if (policy.skip_unavailable_machines && m->health == HealthStatus::kUnavailable &&
        (policy.skip_roles.empty() || Shares(m->roles, policy.skip_roles))) {
      Exclude(*m, "it is unavailable and the project skips unavailable targets");
      health_excluded = true;
      continue;
    }
    step.targets.push_back(
        {m->id, m->name, m->hostname, m->roles, m->communication_style, m->health});
  }
  if (step.targets.empty()) {
    return health_excluded
               ? "every target with the role(s) " + roles + " was left out for its health"
               : "no target with the role(s) " + roles + " is selected for this deployment";
  }
  std::sort(step.targets.begin(), step.targets.end(),
            [](const PlannedTarget& a, const PlannedTarget& b) {
              const std::string la = core::ToLower(a.name), lb = core::ToLower(b.name);
              return la != lb ? la < lb : a.id < b.id;
            });
  return std::nullopt;
}

void Planner::SkipStep(const PlannedStep& step, std::string reason, size_t first_action) {
  for (size_t i = first_action; i < plan_.actions_skipped.size(); ++i) {
    plan_.actions_skipped[i].second = true;
  }
  plan_.warnings.push_back("The step '" + step.name + "' is skipped: " + reason + ".");
  plan_.skipped_steps.push_back({step.id, step.name, step.number, std::move(reason)});
}

void Planner::Exclude(const CandidateMachine& m, std::string reason) {
  for (const auto& e : plan_.excluded_targets) {
    if (e.id == m.id) return;
  }
  plan_.warnings.push_back("The deployment target '" + m.name + "' is left out: " + reason + ".");
  plan_.excluded_targets.push_back({m.id, m.name, std::move(reason)});
}

// StartWithPrevious joins the group of the nearest step before it that runs.
void Planner::Group(std::vector<PlannedStep> steps) {
  std::set<std::string> seen;
  for (auto& step : steps) {
    for (const auto& t : step.targets) {
      if (seen.insert(t.id).second) plan_.machines.push_back(t);
    }
    if (step.start_trigger == StartTrigger::kStartWithPrevious && !plan_.groups.empty()) {
      plan_.groups.back().steps.push_back(std::move(step));
    } else {
      plan_.groups.push_back({});
      plan_.groups.back().steps.push_back(std::move(step));
    }
  }
  std::sort(plan_.machines.begin(), plan_.machines.end(),
            [](const PlannedTarget& a, const PlannedTarget& b) {
              const std::string la = core::ToLower(a.name), lb = core::ToLower(b.name);
              return la != lb ? la < lb : a.id < b.id;
            });
}

}  // namespace

HealthStatus ParseHealthStatus(std::string_view text) {
  for (auto [name, h] : {std::pair{"Healthy", HealthStatus::kHealthy},
                         std::pair{"HasWarnings", HealthStatus::kHasWarnings},
                         std::pair{"Unhealthy", HealthStatus::kUnhealthy},
                         std::pair{"Unavailable", HealthStatus::kUnavailable}}) {
    if (core::EqualsIgnoreCase(text, name)) return h;
  }
  return HealthStatus::kUnknown;
}

ConnectivityPolicy ReadConnectivityPolicy(const json& policy) {
  ConnectivityPolicy p;
  p.skip_unavailable_machines = core::EqualsIgnoreCase(
      core::StringMember(policy, "SkipMachineBehavior"), "SkipUnavailableMachines");
  p.skip_roles = List(policy, "TargetRoles");
  p.exclude_unhealthy_targets = core::FlagMember(policy, "ExcludeUnhealthyTargets");
  p.allow_deployments_to_no_targets = core::FlagMember(policy, "AllowDeploymentsToNoTargets");
  return p;
}

Result<Plan> PlanDeployment(const json& process, const DeploymentRequest& request,
                            const std::vector<CandidateMachine>& machines) {
  try {
    return Planner(request, machines).Run(process);
  } catch (const json::exception& e) {
    return Fail(
        Error::InvalidArgument(std::string("The deployment process is malformed: ") + e.what()));
  }
}

bool ShouldRun(const PlannedStep& step, bool deployment_failed_so_far,
               const std::function<bool(std::string_view)>& evaluate_truthy) {
  switch (step.condition) {
    case StepCondition::kSuccess:
      return !deployment_failed_so_far;
    case StepCondition::kFailure:
      return deployment_failed_so_far;
    case StepCondition::kAlways:
      return true;
    case StepCondition::kVariable:
      return !step.condition_expression.empty() && evaluate_truthy &&
             evaluate_truthy(step.condition_expression);
  }
  return false;
}

bool ShouldRunAction(const PlannedAction& action, bool step_failed_so_far,
                     const std::function<bool(std::string_view)>& evaluate_truthy) {
  switch (action.condition) {
    case ActionCondition::kSuccess:
      return !step_failed_so_far;
    case ActionCondition::kVariable:
      return !action.condition_expression.empty() && evaluate_truthy &&
             evaluate_truthy(action.condition_expression);
  }
  return false;
}

size_t TargetWindow(const PlannedStep& step, std::optional<std::string_view> evaluated) {
  size_t window = kDefaultMaxParallelism;
  if (step.max_parallelism) {
    window = *step.max_parallelism;
  } else if (auto n = evaluated ? PositiveInt(*evaluated) : std::nullopt) {
    window = *n;
  }
  return std::max<size_t>(1, std::min(window, step.targets.size()));
}

ScopeContext ScopeFor(const DeploymentRequest& request, const PlannedStep& step,
                      const PlannedAction& action, const PlannedTarget* target) {
  ScopeContext c;
  c.environment_id = request.environment_id;
  c.channel_id = request.channel_id;
  c.process_owner_id = request.process_owner_id;
  c.action_id = action.id;
  c.step_target_roles = step.target_roles;
  if (target != nullptr) {
    c.machine_id = target->id;
    c.machine_roles = target->roles;
  }
  return c;
}

StepFacts StepFactsFor(const PlannedStep& step, const PlannedAction& action) {
  StepFacts f;
  f.step_id = step.id;
  f.step_name = step.name;
  f.step_number = std::to_string(step.number);
  f.action_id = action.id;
  f.action_name = action.name;
  f.action_number = action.number;
  f.target_roles = step.target_roles;
  auto strings = [](const json& bag) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = bag.begin(); it != bag.end(); ++it) {
      if (it.value().is_string()) out.emplace_back(it.key(), it.value().get<std::string>());
    }
    return out;
  };
  f.step_properties = strings(step.properties);
  f.action_properties = strings(action.properties);
  for (const auto& p : action.packages) {
    f.packages.push_back({p.name, p.package_id, p.feed_id, p.version});
  }
  return f;
}

MachineFacts MachineFactsFor(const PlannedTarget& target) {
  return {target.id, target.name, target.hostname, target.roles};
}

void AddPlanFacts(const Plan& plan, DeploymentFacts& facts) {
  facts.machine_ids.clear();
  facts.machines_in_role.clear();
  for (const auto& m : plan.machines) {
    facts.machine_ids.push_back(m.id);
    for (const auto& role : m.roles) facts.machines_in_role[role].push_back(m.id);
  }
  facts.actions_skipped = plan.actions_skipped;
}

}  // namespace cuttle::engine
