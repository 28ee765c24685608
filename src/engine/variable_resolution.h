// Variable resolution: the dictionary one step sees on one target, built from a release's frozen
// variable sets (reference-octopus-deployment-model.md §2.8, §2.9), the deployment's prompted
// values, the output variables earlier steps recorded (§3.7) and the system variables (§3.8).
//
// Contract:
// - ReadFrozenVariables reads stored Variables[] arrays (model/variables.h's shape: Name, Value or
//   SealedValue, IsSensitive, Scope{Environment, Role, Machine, Action, Channel, ProcessOwner,
//   TenantTag}, Prompt). Sealed values are opened through the caller's callback (the engine holds
//   no keys).
// - ApplyFormValues gives prompted variables the deployment's answers and names every required
//   prompt left without a value.
// - ResolveVariables picks, for every name, the applicable value of highest rank (§2.9); system
//   variables are Octopus's "Private" values and beat every user value.
// - docs/engine-planning.md lists the decisions taken where the reference is silent.
// Everything here is a value type or a pure function; nothing is shared, so concurrent use of
// distinct objects is safe and concurrent writes to one object are not.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "engine/variables.h"

namespace cuttle::engine {

// Where a value was defined. On equal rank a later source in this list loses to an earlier one:
// outputs (facts of this deployment) beat project values, which beat library-set values (§2.9).
enum class VariableSource { kOutput, kProject, kLibrary };

// A scope as stored: each key lists ids (roles and tenant tags are names). An empty list means
// the key is absent.
struct VariableScope {
  std::vector<std::string> environments;
  std::vector<std::string> roles;
  std::vector<std::string> machines;
  std::vector<std::string> actions;
  std::vector<std::string> channels;
  std::vector<std::string> process_owners;
  std::vector<std::string> tenant_tags;

  bool empty() const;
};

struct VariablePrompt {
  std::string label;
  std::string description;
  bool required = false;
};

// One value of a variable, opened.
struct ScopedVariable {
  std::string id;
  std::string name;
  std::string value;
  std::string type = "String";
  bool sensitive = false;
  VariableScope scope;
  std::optional<VariablePrompt> prompt;
  VariableSource source = VariableSource::kProject;
  // Which library set (0-based, in inclusion order); 0 for other sources.
  int set_index = 0;
  // True once the deployment's FormValues answered this prompted variable: the value then ranks as
  // Octopus's "User" scope, above every ordinary scoped value.
  bool answered = false;
};

// The variables a release froze: its project set first, then each library set in inclusion order.
struct FrozenVariables {
  std::vector<ScopedVariable> variables;
};

// Opens the sealed value of a stored sensitive variable (model::VariableValue with the master
// key's SecretBox, in the integrator).
using OpenSealedValue = std::function<Result<std::string>(const nlohmann::json& stored)>;

// Reads the project's frozen Variables[] and each library set's (either the arrays or the variable
// set documents holding them). A sensitive variable's value comes from `open` when given; without
// it, from its Value (already opened) or it is an error naming the variable. Malformed entries are
// errors naming their place ("library set 2, Variables[3]").
Result<FrozenVariables> ReadFrozenVariables(const nlohmann::json& project_variables,
                                            const std::vector<nlohmann::json>& library_variables,
                                            const OpenSealedValue& open = nullptr);

// Where one step runs on one target. Empty fields are absent from the context: a value scoped to
// an absent key never applies (e.g. Machine on the built-in worker, Channel in a runbook).
struct ScopeContext {
  std::string environment_id;
  std::string machine_id;
  std::vector<std::string> machine_roles;
  // The roles the step targets (Octopus.Action.TargetRoles): a Role scope matching one of these
  // and the machine ranks as "TargetRole", above a role that is only on the machine.
  std::vector<std::string> step_target_roles;
  std::string action_id;
  std::string channel_id;
  std::string process_owner_id;  // the project (deployment) or the runbook (runbook run)
  std::string tenant_id;         // untenanted deployments only for now: unused
  std::vector<std::string> tenant_tags;
};

// Whether `scope` applies in `context`: for every key the scope has, the context matches one of
// its values (OR within a key, AND across keys). Ids, roles and tags compare case-insensitively.
bool ScopeApplies(const VariableScope& scope, const ScopeContext& context);

// The specificity of an applicable scope (§2.9's lexicographic score): Action 1e7, Machine 1e6,
// Role targeted by the step 1e5, other Role 1e4, TenantTag 1e3, Environment 100, Channel 10,
// ProcessOwner 1, summed over the keys present; an answered prompt adds 1e8 (Octopus's "User").
int64_t ScopeRank(const ScopedVariable& v, const ScopeContext& context);

// Gives prompted variables the deployment's FormValues (an object; keys match the variable's Id,
// Name or Prompt.Label, case-insensitively). An answer replaces the value and ranks the variable
// above ordinary scoped values. A required prompted variable that applies to the deployment
// (its Environment, Channel, ProcessOwner and TenantTag keys match `deployment`; per-target keys
// are not judged here) and has neither an answer nor a non-empty default is an error naming each
// one: "The prompted variable 'Label' (Name) requires a value."
Result<void> ApplyFormValues(FrozenVariables& frozen, const nlohmann::json& form_values,
                             const ScopeContext& deployment);

// Output variables recorded by the steps that ran so far (§3.7). A value type: copy it when a
// parallel group starts to keep the group's own outputs from its siblings.
class OutputVariables {
 public:
  // Records output `name` set by action `action_name` on the machine (empty id and name: the
  // built-in worker or a manual step), as the server does:
  //   Octopus.Action[A].Output[M].name   unscoped (only when there is a machine)
  //   Octopus.Action[A].Output.name      scoped to machine M (only when there is a machine)
  //   Octopus.Action[A].Output.name      unscoped; the last one recorded wins
  void Record(std::string_view action_name, std::string_view machine_id,
              std::string_view machine_name, std::string_view name, std::string value,
              bool sensitive = false);

  const std::vector<ScopedVariable>& variables() const { return variables_; }
  bool empty() const { return variables_.empty(); }

 private:
  void Put(ScopedVariable v);
  std::vector<ScopedVariable> variables_;
};

// The dictionary one action sees: for each name, the applicable value of highest ScopeRank among
// the frozen variables and the outputs; equal ranks go to the earlier VariableSource, then the
// earlier library set, then the earlier definition. Every `system` variable then replaces a user
// value of the same name (Octopus's "Private" scope). Sensitive flags are kept.
VariableDictionary ResolveVariables(const FrozenVariables& frozen, const OutputVariables& outputs,
                                    const ScopeContext& context,
                                    const VariableDictionary& system = {});

// --- system variables (§3.8) ---

struct ReleaseRef {
  std::string id;
  std::string number;
};

struct UserRef {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;
};

// What the deployment as a whole knows, filled by the integrator from its documents.
struct DeploymentFacts {
  std::string space_id, space_name;
  std::string project_id, project_name;
  std::string project_group_id, project_group_name;
  std::string release_id, release_number, release_notes;
  std::optional<int64_t> release_created;  // Unix ms
  std::string channel_id, channel_name;
  std::optional<ReleaseRef> previous_release, previous_release_for_environment,
      current_release_for_environment;
  std::string environment_id, environment_name;
  int64_t environment_sort_order = 0;
  std::string deployment_id, deployment_name, deployment_comments;
  std::optional<int64_t> deployment_created;  // Unix ms
  UserRef created_by;
  std::string previous_successful_deployment_id;
  std::vector<std::string> machine_ids;  // every target of the deployment (plan.h gives them)
  std::vector<std::string> specific_machine_ids, excluded_machine_ids;
  std::map<std::string, std::vector<std::string>, NameLess> machines_in_role;  // role → ids
  bool force_package_download = false;
  // The first failure so far (message / with detail); empty while the deployment is healthy.
  std::string error, error_detail;
  // Octopus.Action[name].IsSkipped for every action of the process (plan.h gives them).
  std::vector<std::pair<std::string, bool>> actions_skipped;
  std::string task_id, task_name;
  std::optional<int64_t> task_queue_time, task_queue_time_expiry;  // Unix ms
  std::vector<std::pair<std::string, std::string>> task_arguments;
  // The server's public address ("https://deploy.example.com", no trailing slash): ServerUri and
  // BaseUrl; the *Link variables are paths under it, as Octopus gives them.
  std::string server_uri;
};

// A package an action references, with the version the release selected.
struct PackageFacts {
  std::string name;  // empty: the action's primary package
  std::string package_id;
  std::string feed_id;
  std::string version;
};

// The step and action running.
struct StepFacts {
  std::string step_id, step_name, step_number;
  std::string action_id, action_name, action_number;
  std::vector<std::string> target_roles;
  // Property bags as strings; the action's properties are exposed as variables after the step's
  // (Octopus.Action.Script.ScriptBody, Octopus.Action.MaxParallelism, ...).
  std::vector<std::pair<std::string, std::string>> step_properties, action_properties;
  std::vector<PackageFacts> packages;
};

// The target the action runs on (or on behalf of).
struct MachineFacts {
  std::string id, name, hostname;
  std::vector<std::string> roles;
};

struct SystemFacts {
  DeploymentFacts deployment;
  std::optional<StepFacts> step;
  std::optional<MachineFacts> machine;
};

// Octopus.* variables of §3.8 for what `facts` holds. Dates are ISO 8601 (core::FormatIso8601);
// booleans "True"/"False"; lists comma-separated. Optional facts that are absent produce no
// variable, except Octopus.Deployment.Error/ErrorDetail, which are empty while healthy.
VariableDictionary SystemVariables(const SystemFacts& facts);

}  // namespace cuttle::engine
