// Deployment planning: which steps and actions of a release's frozen deployment process run, on
// which targets, in which order and under which condition
// (reference-octopus-deployment-model.md §2.7, §3.1-§3.6).
//
// Contract: PlanDeployment is a pure function of the frozen process JSON (model/process.h's
// stored shape), the deployment's choices and the candidate machines the integrator read; it
// performs no I/O and keeps no state. The plan is a value: the runner walks its groups in order,
// running the steps of a group together, each step's targets through a window of TargetWindow()
// at a time, each target through the step's actions in order. Run decisions that depend on what
// happened (ShouldRun, ShouldRunAction) are functions of the plan and the outcome so far.
// docs/engine-planning.md lists the rules as implemented and the decisions taken where the
// reference is silent. Thread-safe: pure functions over values.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "engine/variable_resolution.h"

namespace cuttle::engine {

// The fan-out of a step, and the number of steps of a group running at once, when neither the
// step nor the variable Octopus.Action.MaxParallelism says otherwise (§3.3).
inline constexpr size_t kDefaultMaxParallelism = 10;

enum class HealthStatus { kHealthy, kHasWarnings, kUnhealthy, kUnavailable, kUnknown };
// "Healthy", "HasWarnings", ... (case-insensitive); anything else is kUnknown.
HealthStatus ParseHealthStatus(std::string_view text);

// A deployment target as the integrator read it (machines of the space; any environment).
struct CandidateMachine {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> environment_ids;
  bool disabled = false;
  HealthStatus health = HealthStatus::kUnknown;
  std::string communication_style;  // "None" (cloud region: the built-in worker), "TentacleActive"
  std::string hostname;
};

// The project's ProjectConnectivityPolicy.
struct ConnectivityPolicy {
  // SkipMachineBehavior = SkipUnavailableMachines: targets whose health is Unavailable are left
  // out, only those with one of `skip_roles` when that list is non-empty (its TargetRoles).
  bool skip_unavailable_machines = false;
  std::vector<std::string> skip_roles;
  // ExcludeUnhealthyTargets: targets that are Unhealthy or Unavailable are left out.
  bool exclude_unhealthy_targets = false;
  // AllowDeploymentsToNoTargets: a step whose roles match no target is skipped, not an error.
  bool allow_deployments_to_no_targets = false;
};

// Reads a ProjectConnectivityPolicy object (missing or malformed fields keep their defaults).
ConnectivityPolicy ReadConnectivityPolicy(const nlohmann::json& policy);

// What the deployment (or runbook run) asks for.
struct DeploymentRequest {
  std::string environment_id;
  std::string environment_name;  // for messages; the id is used when empty
  std::string channel_id;        // empty for a runbook run: actions' Channels are not judged
  std::string process_owner_id;  // the project, or the runbook
  std::vector<std::string> skip_actions;          // action ids
  std::vector<std::string> specific_machine_ids;  // empty: every eligible target
  std::vector<std::string> excluded_machine_ids;
  ConnectivityPolicy policy;
  // The release's SelectedPackages ([{ActionName, PackageReferenceName, Version}]); null when
  // the caller does not give versions (then planned packages have none and none is required).
  nlohmann::json selected_packages;
};

enum class StepCondition { kSuccess, kFailure, kAlways, kVariable };
enum class ActionCondition { kSuccess, kVariable };
enum class StartTrigger { kStartAfterPrevious, kStartWithPrevious };

// Where an action runs.
enum class ActionLocation {
  kTarget,           // on each of the step's targets
  kServerForTarget,  // on the built-in worker, once per target, with that target's variables
  kServer,           // once, on the built-in worker
  kManual,           // a manual intervention: once, on the server, waiting for a person
};

// How a step runs as a whole.
enum class StepKind {
  kTargets,  // once per target (its actions located kTarget or kServerForTarget)
  kServer,   // once on the built-in worker (no target roles)
  kManual,   // a manual intervention (Octopus.Manual)
};

struct PlannedPackage {
  std::string name;  // empty: the action's primary package
  std::string package_id;
  std::string feed_id;
  std::string acquisition_location;  // Server, ExecutionTarget or NotAcquired
  std::string version;               // from the release's SelectedPackages
};

struct PlannedAction {
  std::string id, name, slug, action_type;
  std::string number;  // "3" for a step's only action, "3.2" for its second child action
  ActionLocation location = ActionLocation::kTarget;
  bool required = false;
  ActionCondition condition = ActionCondition::kSuccess;
  std::string condition_expression;  // Octopus.Action.ConditionVariableExpression
  nlohmann::json properties = nlohmann::json::object();  // the action's property bag, as stored
  std::vector<PlannedPackage> packages;
  // Manual interventions: the instructions and the teams that may answer (empty: any deployer).
  std::string instructions;
  std::vector<std::string> responsible_team_ids;
};

struct PlannedTarget {
  std::string id, name, hostname;
  std::vector<std::string> roles;
  std::string communication_style;
  HealthStatus health = HealthStatus::kUnknown;
};

struct PlannedStep {
  std::string id, name, slug;
  int number = 0;  // 1-based position in the process, skipped steps counted
  StepKind kind = StepKind::kServer;
  StartTrigger start_trigger = StartTrigger::kStartAfterPrevious;
  StepCondition condition = StepCondition::kSuccess;
  std::string condition_expression;  // Octopus.Step.ConditionVariableExpression
  // An action of the step is IsRequired (or is a manual intervention naming teams): the
  // deployment cannot skip it. It says nothing about running after a failure.
  bool required = false;
  std::vector<std::string> target_roles;
  // Octopus.Action.MaxParallelism when the step property is a literal positive integer (a
  // rolling deployment); nullopt otherwise (see TargetWindow).
  std::optional<size_t> max_parallelism;
  nlohmann::json properties = nlohmann::json::object();
  std::vector<PlannedAction> actions;  // in process order, skipped ones left out
  std::vector<PlannedTarget> targets;  // kTargets only; ordered by name, then id
};

// Steps that start together (a step and the StartWithPrevious steps after it).
struct PlannedGroup {
  std::vector<PlannedStep> steps;
};

struct SkippedAction {
  std::string step_name;
  std::string action_id, action_name;
  std::string reason;  // "it is disabled", "it does not run in Production", ...
};

struct SkippedStep {
  std::string id, name;
  int number = 0;
  std::string reason;
};

// A target with the step's roles that the plan left out because of its health.
struct ExcludedTarget {
  std::string id, name;
  std::string reason;
};

struct Plan {
  std::vector<PlannedGroup> groups;
  std::vector<SkippedStep> skipped_steps;
  std::vector<SkippedAction> skipped_actions;
  std::vector<ExcludedTarget> excluded_targets;  // once per machine
  std::vector<std::string> warnings;             // for the task log
  // Every target some step runs on, ordered by name then id (Octopus.Deployment.Machines).
  std::vector<PlannedTarget> machines;
  // Every action of the process in order, with whether it is skipped (Octopus.Action[x].IsSkipped).
  std::vector<std::pair<std::string, bool>> actions_skipped;
};

// Plans a deployment of `process` (the frozen process document, or its Steps array). Errors name
// every problem: a malformed process, a step whose target roles match no enabled target in the
// environment (unless the policy allows deployments to no targets), a package without a selected
// version.
Result<Plan> PlanDeployment(const nlohmann::json& process, const DeploymentRequest& request,
                            const std::vector<CandidateMachine>& machines);

// Whether a step runs, given whether the deployment has failed so far: Success runs only before
// any failure, Failure only after one, Always always, Variable when `evaluate_truthy` (Octostache
// truthiness of the step's expression, evaluated with the step's variables) says so, whatever
// failed. A Variable condition without an expression does not run.
bool ShouldRun(const PlannedStep& step, bool deployment_failed_so_far,
               const std::function<bool(std::string_view)>& evaluate_truthy);

// The same for one action of a step that runs, on one target: Success runs only if no earlier
// action of this step failed on this target (not the deployment: an Always step's actions run
// after a failure elsewhere); Variable asks `evaluate_truthy` (with that target's variables, so
// per-machine outputs can decide).
bool ShouldRunAction(const PlannedAction& action, bool step_failed_so_far,
                     const std::function<bool(std::string_view)>& evaluate_truthy);

// How many of the step's targets run at once: the step's literal MaxParallelism; else
// `evaluated` (Octopus.Action.MaxParallelism as the action's variables evaluate it: a templated
// step property or the project variable) when it is a positive integer; else
// kDefaultMaxParallelism. Never more than the targets, never less than 1. A new target starts
// when any running one finishes (a sliding window, not batches).
size_t TargetWindow(const PlannedStep& step, std::optional<std::string_view> evaluated);

// --- what variable resolution needs from the plan ---

// The scope of `action` of `step` on `target` (nullptr: the built-in worker).
ScopeContext ScopeFor(const DeploymentRequest& request, const PlannedStep& step,
                      const PlannedAction& action, const PlannedTarget* target);
StepFacts StepFactsFor(const PlannedStep& step, const PlannedAction& action);
MachineFacts MachineFactsFor(const PlannedTarget& target);
// Fills machine_ids, machines_in_role and actions_skipped of `facts` from the plan.
void AddPlanFacts(const Plan& plan, DeploymentFacts& facts);

}  // namespace cuttle::engine
