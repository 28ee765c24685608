#include "engine/variable_resolution.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "core/json.h"
#include "core/strings.h"

namespace cuttle::engine {

namespace {

using nlohmann::json;

// A form value or a stored Value as text: strings as they are, booleans as True/False, numbers
// as written; null (and anything else) is no value.
std::optional<std::string> AsText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "True" : "False");
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

Result<std::vector<std::string>> ScopeList(const json& scope, std::string_view key,
                                           const std::string& place) {
  std::vector<std::string> out;
  const json* v = core::FindKeyIgnoreCase(scope, key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) {
    return Fail(Error::InvalidArgument(place + ".Scope." + std::string(key) +
                                       " must be a list of strings."));
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      return Fail(Error::InvalidArgument(place + ".Scope." + std::string(key) +
                                         " must be a list of strings."));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<VariableScope> ReadScope(const json& stored, const std::string& place) {
  VariableScope s;
  const json* scope = core::FindKeyIgnoreCase(stored, "Scope");
  if (scope == nullptr || scope->is_null()) return s;
  if (!scope->is_object()) return Fail(Error::InvalidArgument(place + ".Scope must be an object."));
  CUTTLE_TRY(s.environments, ScopeList(*scope, "Environment", place));
  CUTTLE_TRY(s.roles, ScopeList(*scope, "Role", place));
  CUTTLE_TRY(s.machines, ScopeList(*scope, "Machine", place));
  CUTTLE_TRY(s.actions, ScopeList(*scope, "Action", place));
  CUTTLE_TRY(s.channels, ScopeList(*scope, "Channel", place));
  CUTTLE_TRY(s.process_owners, ScopeList(*scope, "ProcessOwner", place));
  CUTTLE_TRY(s.tenant_tags, ScopeList(*scope, "TenantTag", place));
  return s;
}

Result<ScopedVariable> ReadVariable(const json& stored, const std::string& place,
                                    const OpenSealedValue& open) {
  if (!stored.is_object()) return Fail(Error::InvalidArgument(place + " must be an object."));
  ScopedVariable v;
  v.id = core::StringMember(stored, "Id");
  v.name = core::StringMember(stored, "Name");
  if (core::Trim(v.name).empty()) {
    return Fail(Error::InvalidArgument(place + ".Name is required."));
  }
  const std::string type = core::StringMember(stored, "Type");
  if (!type.empty()) v.type = type;
  v.sensitive = core::FlagMember(stored, "IsSensitive") || v.type == "Sensitive";
  const json* value = core::FindKeyIgnoreCase(stored, "Value");
  if (v.sensitive && open) {
    auto opened = open(stored);
    if (!opened) {
      return Fail(opened.error().Wrap("opening the sensitive variable '" + v.name + "'"));
    }
    v.value = std::move(*opened);
  } else if (value != nullptr && AsText(*value)) {
    v.value = *AsText(*value);
  } else if (v.sensitive && core::FindKeyIgnoreCase(stored, "SealedValue") != nullptr) {
    return Fail(Error::Internal("The sensitive variable '" + v.name +
                                "' is sealed and no key was given to open it."));
  }
  CUTTLE_TRY(v.scope, ReadScope(stored, place));
  const json* prompt = core::FindKeyIgnoreCase(stored, "Prompt");
  if (prompt != nullptr && prompt->is_object()) {
    v.prompt = VariablePrompt{core::StringMember(*prompt, "Label"),
                              core::StringMember(*prompt, "Description"),
                              core::FlagMember(*prompt, "Required")};
  }
  return v;
}

// The Variables[] of `set`: the array itself, or a variable set document holding it.
Result<const json*> VariablesOf(const json& set, const std::string& place) {
  static const json kEmpty = json::array();
  if (set.is_null()) return &kEmpty;
  if (set.is_array()) return &set;
  const json* v = core::FindKeyIgnoreCase(set, "Variables");
  if (v != nullptr && v->is_array()) return v;
  return Fail(Error::InvalidArgument(place + " must be a list of variables."));
}

Result<void> ReadSet(const json& set, VariableSource source, int set_index,
                     const std::string& place, const OpenSealedValue& open, FrozenVariables& out) {
  CUTTLE_TRY(const json* variables, VariablesOf(set, place));
  for (size_t i = 0; i < variables->size(); ++i) {
    CUTTLE_TRY(auto v, ReadVariable((*variables)[i],
                                    place + ", Variables[" + std::to_string(i) + "]", open));
    v.source = source;
    v.set_index = set_index;
    out.variables.push_back(std::move(v));
  }
  return {};
}

bool AnyEqual(const std::vector<std::string>& listed, std::string_view value) {
  if (value.empty()) return false;
  return std::any_of(listed.begin(), listed.end(),
                     [&](const std::string& l) { return core::EqualsIgnoreCase(l, value); });
}

bool AnyShared(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return AnyEqual(b, x); });
}

// A key the scope lacks matches anything; a key it has must match the context.
bool KeyMatches(const std::vector<std::string>& listed, std::string_view value) {
  return listed.empty() || AnyEqual(listed, value);
}

bool KeyShares(const std::vector<std::string>& listed, const std::vector<std::string>& values) {
  return listed.empty() || AnyShared(listed, values);
}

// The scope keys a deployment as a whole can judge (not Machine, Role or Action).
bool DeploymentScopeApplies(const VariableScope& s, const ScopeContext& c) {
  return KeyMatches(s.environments, c.environment_id) && KeyMatches(s.channels, c.channel_id) &&
         KeyMatches(s.process_owners, c.process_owner_id) &&
         KeyShares(s.tenant_tags, c.tenant_tags);
}

bool FormKeyNames(const std::string& key, const ScopedVariable& v) {
  return (!v.id.empty() && core::EqualsIgnoreCase(key, v.id)) ||
         core::EqualsIgnoreCase(key, v.name) ||
         (v.prompt && !v.prompt->label.empty() && core::EqualsIgnoreCase(key, v.prompt->label));
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace

bool VariableScope::empty() const {
  return environments.empty() && roles.empty() && machines.empty() && actions.empty() &&
         channels.empty() && process_owners.empty() && tenant_tags.empty();
}

Result<FrozenVariables> ReadFrozenVariables(const json& project_variables,
                                            const std::vector<json>& library_variables,
                                            const OpenSealedValue& open) {
  FrozenVariables out;
  try {
    CUTTLE_TRY_VOID(
        ReadSet(project_variables, VariableSource::kProject, 0, "project set", open, out));
    for (size_t i = 0; i < library_variables.size(); ++i) {
      CUTTLE_TRY_VOID(ReadSet(library_variables[i], VariableSource::kLibrary, static_cast<int>(i),
                              "library set " + std::to_string(i + 1), open, out));
    }
  } catch (const json::exception& e) {
    return Fail(Error::InvalidArgument(std::string("Frozen variables are malformed: ") + e.what()));
  }
  return out;
}

bool ScopeApplies(const VariableScope& s, const ScopeContext& c) {
  return DeploymentScopeApplies(s, c) && KeyMatches(s.machines, c.machine_id) &&
         KeyShares(s.roles, c.machine_roles) && KeyMatches(s.actions, c.action_id);
}

int64_t ScopeRank(const ScopedVariable& v, const ScopeContext& c) {
  const VariableScope& s = v.scope;
  int64_t rank = 0;
  if (v.answered) rank += 100'000'000;
  if (!s.actions.empty()) rank += 10'000'000;
  if (!s.machines.empty()) rank += 1'000'000;
  if (!s.roles.empty()) {
    // "TargetRole": a listed role that is on the machine and targeted by the step.
    bool targeted = false;
    for (const auto& r : s.roles) {
      targeted = targeted || (AnyEqual(c.machine_roles, r) && AnyEqual(c.step_target_roles, r));
    }
    rank += targeted ? 100'000 : 10'000;
  }
  if (!s.tenant_tags.empty()) rank += 1'000;
  if (!s.environments.empty()) rank += 100;
  if (!s.channels.empty()) rank += 10;
  if (!s.process_owners.empty()) rank += 1;
  return rank;
}

Result<void> ApplyFormValues(FrozenVariables& frozen, const json& form_values,
                             const ScopeContext& deployment) {
  if (!form_values.is_null() && !form_values.is_object()) {
    return Fail(Error::InvalidArgument("FormValues must be an object."));
  }
  std::vector<std::string> missing;
  std::set<std::string> reported;
  for (auto& v : frozen.variables) {
    if (!v.prompt) continue;
    std::optional<std::string> answer;
    if (form_values.is_object()) {
      for (auto it = form_values.begin(); it != form_values.end() && !answer; ++it) {
        if (FormKeyNames(it.key(), v)) answer = AsText(it.value());
      }
    }
    if (answer) {
      v.value = std::move(*answer);
      v.answered = true;
      continue;
    }
    if (v.prompt->required && v.value.empty() && DeploymentScopeApplies(v.scope, deployment) &&
        reported.insert(core::ToLower(v.name)).second) {
      const std::string label = v.prompt->label.empty() ? v.name : v.prompt->label;
      missing.push_back("The prompted variable '" + label + "' (" + v.name + ") requires a value.");
    }
  }
  if (missing.empty()) return {};
  if (missing.size() == 1) return Fail(Error::InvalidArgument(missing.front()));
  return Fail(Error::Invalid("Prompted variables require values.", std::move(missing)));
}

void OutputVariables::Put(ScopedVariable v) {
  for (auto& existing : variables_) {
    if (core::EqualsIgnoreCase(existing.name, v.name) &&
        existing.scope.machines == v.scope.machines) {
      existing = std::move(v);
      return;
    }
  }
  variables_.push_back(std::move(v));
}

void OutputVariables::Record(std::string_view action_name, std::string_view machine_id,
                             std::string_view machine_name, std::string_view name,
                             std::string value, bool sensitive) {
  const std::string prefix = "Octopus.Action[" + std::string(action_name) + "].Output";
  auto make = [&](std::string full_name) {
    ScopedVariable v;
    v.name = std::move(full_name);
    v.value = value;
    v.sensitive = sensitive;
    if (sensitive) v.type = "Sensitive";
    v.source = VariableSource::kOutput;
    return v;
  };
  if (!machine_id.empty()) {
    Put(make(prefix + "[" + std::string(machine_name) + "]." + std::string(name)));
    ScopedVariable scoped = make(prefix + "." + std::string(name));
    scoped.scope.machines.push_back(std::string(machine_id));
    Put(std::move(scoped));
  }
  Put(make(prefix + "." + std::string(name)));
}

VariableDictionary ResolveVariables(const FrozenVariables& frozen, const OutputVariables& outputs,
                                    const ScopeContext& context, const VariableDictionary& system) {
  struct Best {
    const ScopedVariable* v;
    // Compared descending by rank, then ascending by the rest: the first wins.
    std::tuple<int64_t, int, int, size_t> key;
  };
  std::map<std::string, Best, NameLess> best;
  size_t order = 0;
  auto consider = [&](const ScopedVariable& v) {
    ++order;
    if (!ScopeApplies(v.scope, context)) return;
    std::tuple<int64_t, int, int, size_t> key{-ScopeRank(v, context), static_cast<int>(v.source),
                                              v.set_index, order};
    auto it = best.find(v.name);
    if (it == best.end()) {
      best.emplace(v.name, Best{&v, key});
    } else if (key < it->second.key) {
      it->second = Best{&v, key};
    }
  };
  for (const auto& v : frozen.variables) consider(v);
  for (const auto& v : outputs.variables()) consider(v);

  VariableDictionary out;
  for (const auto& [name, b] : best) out.Set(b.v->name, b.v->value, b.v->sensitive);
  for (const auto& [name, v] : system) out.Set(v.name, v.value, v.sensitive);
  return out;
}

// --- system variables ---

namespace {

std::string Bool(bool b) { return b ? "True" : "False"; }

void SetTime(VariableDictionary& d, const std::string& name, const std::optional<int64_t>& ms) {
  if (ms) d.Set(name, core::FormatIso8601(*ms));
}

// Sets `name` only when the fact is known, so that an unknown fact stays unknown to templates.
void SetKnown(VariableDictionary& d, const std::string& name, const std::string& value) {
  if (!value.empty()) d.Set(name, value);
}

void DeploymentVariables(const DeploymentFacts& f, VariableDictionary& d) {
  SetKnown(d, "Octopus.Space.Id", f.space_id);
  SetKnown(d, "Octopus.Space.Name", f.space_name);
  SetKnown(d, "Octopus.Project.Id", f.project_id);
  SetKnown(d, "Octopus.Project.Name", f.project_name);
  SetKnown(d, "Octopus.ProjectGroup.Id", f.project_group_id);
  SetKnown(d, "Octopus.ProjectGroup.Name", f.project_group_name);

  SetKnown(d, "Octopus.Release.Id", f.release_id);
  SetKnown(d, "Octopus.Release.Number", f.release_number);
  if (!f.release_id.empty()) d.Set("Octopus.Release.Notes", f.release_notes);
  SetTime(d, "Octopus.Release.Created", f.release_created);
  SetKnown(d, "Octopus.Release.Channel.Name", f.channel_name);
  auto release_ref = [&](const char* prefix, const std::optional<ReleaseRef>& r) {
    if (!r) return;
    d.Set(std::string(prefix) + ".Id", r->id);
    d.Set(std::string(prefix) + ".Number", r->number);
  };
  release_ref("Octopus.Release.Previous", f.previous_release);
  release_ref("Octopus.Release.PreviousForEnvironment", f.previous_release_for_environment);
  release_ref("Octopus.Release.CurrentForEnvironment", f.current_release_for_environment);

  SetKnown(d, "Octopus.Environment.Id", f.environment_id);
  SetKnown(d, "Octopus.Environment.Name", f.environment_name);
  if (!f.environment_id.empty()) {
    d.Set("Octopus.Environment.SortOrder", std::to_string(f.environment_sort_order));
  }
  for (const auto& [role, ids] : f.machines_in_role) {
    d.Set("Octopus.Environment.MachinesInRole[" + role + "]", Join(ids));
  }

  SetKnown(d, "Octopus.Deployment.Id", f.deployment_id);
  SetKnown(d, "Octopus.Deployment.Name", f.deployment_name);
  if (!f.deployment_id.empty()) {
    d.Set("Octopus.Deployment.Comments", f.deployment_comments);
    d.Set("Octopus.Deployment.Machines", Join(f.machine_ids));
    d.Set("Octopus.Deployment.SpecificMachines", Join(f.specific_machine_ids));
    d.Set("Octopus.Deployment.ExcludedMachines", Join(f.excluded_machine_ids));
    d.Set("Octopus.Deployment.ForcePackageDownload", Bool(f.force_package_download));
  }
  SetTime(d, "Octopus.Deployment.Created", f.deployment_created);
  SetKnown(d, "Octopus.Deployment.CreatedBy.Id", f.created_by.id);
  SetKnown(d, "Octopus.Deployment.CreatedBy.Username", f.created_by.username);
  SetKnown(d, "Octopus.Deployment.CreatedBy.DisplayName", f.created_by.display_name);
  SetKnown(d, "Octopus.Deployment.CreatedBy.EmailAddress", f.created_by.email);
  SetKnown(d, "Octopus.Deployment.PreviousSuccessful.Id", f.previous_successful_deployment_id);
  // Always present: the documented idiom #{unless Octopus.Deployment.Error} reads it, and a
  // script printing it while healthy should print nothing rather than the token.
  d.Set("Octopus.Deployment.Error", f.error);
  d.Set("Octopus.Deployment.ErrorDetail", f.error_detail);
  for (const auto& [name, skipped] : f.actions_skipped) {
    d.Set("Octopus.Action[" + name + "].IsSkipped", Bool(skipped));
  }

  SetKnown(d, "Octopus.Task.Id", f.task_id);
  SetKnown(d, "Octopus.Task.Name", f.task_name);
  SetTime(d, "Octopus.Task.QueueTime", f.task_queue_time);
  SetTime(d, "Octopus.Task.QueueTimeExpiry", f.task_queue_time_expiry);
  for (const auto& [name, value] : f.task_arguments) {
    d.Set("Octopus.Task.Argument[" + name + "]", value);
  }

  if (!f.server_uri.empty()) {
    d.Set("Octopus.Web.ServerUri", f.server_uri);
    d.Set("Octopus.Web.BaseUrl", f.server_uri);
  }
  const std::string app = "/app#/" + f.space_id;
  if (!f.project_id.empty()) d.Set("Octopus.Web.ProjectLink", app + "/projects/" + f.project_id);
  if (!f.release_id.empty()) d.Set("Octopus.Web.ReleaseLink", app + "/releases/" + f.release_id);
  if (!f.deployment_id.empty()) {
    d.Set("Octopus.Web.DeploymentLink", app + "/deployments/" + f.deployment_id);
  }
}

void StepVariables(const StepFacts& s, VariableDictionary& d) {
  // Properties first: the facts below are the engine's and must not be replaced by a property.
  for (const auto& [k, v] : s.step_properties) d.Set(k, v);
  for (const auto& [k, v] : s.action_properties) d.Set(k, v);
  for (const auto& p : s.packages) {
    const std::string prefix =
        p.name.empty() ? "Octopus.Action.Package" : "Octopus.Action.Package[" + p.name + "]";
    d.Set(prefix + ".PackageId", p.package_id);
    d.Set(prefix + ".PackageVersion", p.version);
    d.Set(prefix + ".FeedId", p.feed_id);
  }
  SetKnown(d, "Octopus.Step.Id", s.step_id);
  SetKnown(d, "Octopus.Step.Name", s.step_name);
  SetKnown(d, "Octopus.Step.Number", s.step_number);
  SetKnown(d, "Octopus.Action.Id", s.action_id);
  SetKnown(d, "Octopus.Action.Name", s.action_name);
  SetKnown(d, "Octopus.Action.Number", s.action_number);
  SetKnown(d, "Octopus.Action.TargetRoles", Join(s.target_roles));
  d.Set("Octopus.Action.IsSkipped", "False");
}

void MachineVariables(const MachineFacts& m, const std::optional<StepFacts>& step,
                      VariableDictionary& d) {
  SetKnown(d, "Octopus.Machine.Id", m.id);
  SetKnown(d, "Octopus.Machine.Name", m.name);
  d.Set("Octopus.Machine.Roles", Join(m.roles));
  SetKnown(d, "Octopus.Machine.Hostname", m.hostname);
  if (step) {
    std::vector<std::string> targeted;
    for (const auto& r : step->target_roles) {
      if (AnyEqual(m.roles, r)) targeted.push_back(r);
    }
    d.Set("Octopus.Tentacle.CurrentDeployment.TargetedRoles", Join(targeted));
  }
}

}  // namespace

VariableDictionary SystemVariables(const SystemFacts& facts) {
  VariableDictionary d;
  DeploymentVariables(facts.deployment, d);
  if (facts.step) StepVariables(*facts.step, d);
  if (facts.machine) MachineVariables(*facts.machine, facts.step, d);
  return d;
}

}  // namespace cuttle::engine
