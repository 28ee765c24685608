// Loading a Deploy or RunbookRun task's documents, and the task kinds that run them.
#include <fmt/format.h>

#include "core/json.h"
#include "core/strings.h"
#include "deploy/orchestrator.h"
#include "model/variables.h"
#include "repo/channels.h"
#include "repo/deployments.h"
#include "repo/environments.h"
#include "repo/machines.h"
#include "repo/processes.h"
#include "repo/project_groups.h"
#include "repo/projects.h"
#include "repo/releases.h"
#include "repo/runbooks.h"
#include "repo/spaces.h"
#include "repo/variable_sets.h"

namespace cuttle::deploy {

using nlohmann::json;

namespace {

std::vector<std::string> Strings(const json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& v : list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Result<json> FrozenSteps(db::Database& db, const std::string& space, const std::string& id) {
  CUTTLE_TRY(auto process, repo::FindProcess(db, space, id));
  if (!process) return Fail(Error::NotFound("The frozen process " + id + " no longer exists."));
  return process->steps;
}

Result<json> FrozenSet(db::Database& db, const std::string& space, const std::string& id) {
  if (id.empty()) return json::array();
  CUTTLE_TRY(auto set, repo::FindVariableSet(db, space, id));
  if (!set) return Fail(Error::NotFound("The frozen variable set " + id + " no longer exists."));
  return set->variables;
}

// What a release's and a runbook run's loading share: environment, project, machines, variables.
Result<void> LoadCommon(db::Database& db, const crypto::SecretBox& secrets,
                        const std::string& project_id, const std::string& project_set,
                        const json& library_sets, const json& form_values, DeploymentInput& in) {
  const std::string& space = in.space_id;
  CUTTLE_TRY(auto environment, repo::FindEnvironment(db, space, in.request.environment_id));
  if (!environment) {
    return Fail(
        Error::NotFound("The environment " + in.request.environment_id + " no longer exists."));
  }
  in.request.environment_name = environment->name;
  in.facts.environment_id = environment->id;
  in.facts.environment_name = environment->name;
  in.facts.environment_sort_order = environment->sort_order;
  CUTTLE_TRY(auto project, repo::FindProject(db, space, project_id));
  if (!project) return Fail(Error::NotFound("The project " + project_id + " no longer exists."));
  in.request.policy = engine::ReadConnectivityPolicy(
      project->doc.value("ProjectConnectivityPolicy", json::object()));
  in.facts.project_id = project->id;
  in.facts.project_name = project->name;
  in.facts.project_group_id = project->project_group_id;
  if (auto group = repo::FindProjectGroup(db, space, project->project_group_id); group && *group) {
    in.facts.project_group_name = (*group)->name;
  }
  if (auto s = repo::FindSpace(db, space); s && *s) in.facts.space_name = (*s)->name;
  in.facts.space_id = space;

  // Only the environment's machines can be targets (the planner skips the rest).
  repo::MachineFilter f;
  f.space_id = space;
  f.environment_ids = std::vector<std::string>{in.request.environment_id};
  repo::PageQuery all;
  all.take = INT64_MAX;
  CUTTLE_TRY(auto machines, repo::ListAllMachines(db, f, all));
  for (const auto& m : machines) {
    engine::CandidateMachine c;
    c.id = m.id;
    c.name = m.name;
    c.roles = m.roles;
    c.environment_ids = m.environment_ids;
    c.disabled = m.is_disabled;
    c.health = engine::ParseHealthStatus(m.health_status);
    c.communication_style = m.communication_style;
    c.hostname = core::StringMember(m.doc.value("Endpoint", json::object()), "Host");
    in.machines.push_back(std::move(c));
  }

  CUTTLE_TRY(auto project_vars, FrozenSet(db, space, project_set));
  std::vector<json> libraries;
  for (const auto& id : Strings(library_sets)) {
    CUTTLE_TRY(auto vars, FrozenSet(db, space, id));
    libraries.push_back(std::move(vars));
  }
  CUTTLE_TRY(in.variables,
             engine::ReadFrozenVariables(project_vars, libraries, [&](const json& stored) {
               return model::VariableValue(stored, secrets);
             }));
  engine::ScopeContext deployment;
  deployment.environment_id = in.request.environment_id;
  deployment.channel_id = in.request.channel_id;
  deployment.process_owner_id = in.request.process_owner_id;
  CUTTLE_TRY_VOID(engine::ApplyFormValues(
      in.variables, form_values.is_object() ? form_values : json::object(), deployment));
  return {};
}

Result<DeploymentInput> LoadRelease(db::Database& db, const crypto::SecretBox& secrets,
                                    const tasks::Task& t) {
  DeploymentInput in;
  in.space_id = t.space_id;
  const std::string id = core::StringMember(t.arguments, "DeploymentId");
  CUTTLE_TRY(auto d, repo::FindDeployment(db, t.space_id, id));
  if (!d) return Fail(Error::NotFound("The deployment " + id + " no longer exists."));
  CUTTLE_TRY(auto release, repo::FindRelease(db, t.space_id, d->release_id));
  if (!release) {
    return Fail(Error::NotFound("The release " + d->release_id + " no longer exists."));
  }
  in.document_id = d->id;
  in.what = "release " + release->version;
  const json& doc = d->json;
  in.request.environment_id = d->environment_id;
  in.request.channel_id = d->channel_id;
  in.request.process_owner_id = d->project_id;
  in.request.skip_actions = Strings(doc.value("SkipActions", json::array()));
  in.request.specific_machine_ids = Strings(doc.value("SpecificMachineIds", json::array()));
  in.request.excluded_machine_ids = Strings(doc.value("ExcludedMachineIds", json::array()));
  in.request.selected_packages = release->json.value("SelectedPackages", json(nullptr));
  in.use_guided_failure = core::FlagMember(doc, "UseGuidedFailure");
  CUTTLE_TRY(
      in.process,
      FrozenSteps(db, t.space_id, release->json.value("ProjectDeploymentProcessSnapshotId", "")));
  in.facts.release_id = release->id;
  in.facts.release_number = release->version;
  in.facts.release_notes = core::StringMember(release->json, "ReleaseNotes");
  in.facts.release_created = release->assembled;
  in.facts.channel_id = d->channel_id;
  if (auto c = repo::FindChannel(db, t.space_id, d->channel_id); c && *c) {
    in.facts.channel_name = (*c)->name;
  }
  in.facts.deployment_id = d->id;
  in.facts.deployment_name = core::StringMember(doc, "Name");
  in.facts.deployment_comments = core::StringMember(doc, "Comments");
  in.facts.deployment_created = d->created;
  in.facts.created_by.id = core::StringMember(doc, "DeployedById");
  in.facts.created_by.username = core::StringMember(doc, "DeployedBy");
  in.facts.specific_machine_ids = in.request.specific_machine_ids;
  in.facts.excluded_machine_ids = in.request.excluded_machine_ids;
  in.facts.force_package_download = core::FlagMember(doc, "ForcePackageDownload");
  CUTTLE_TRY_VOID(LoadCommon(db, secrets, d->project_id,
                             release->json.value("ProjectVariableSetSnapshotId", ""),
                             release->json.value("LibraryVariableSetSnapshotIds", json::array()),
                             doc.value("FormValues", json::object()), in));
  return in;
}

Result<DeploymentInput> LoadRunbookRun(db::Database& db, const crypto::SecretBox& secrets,
                                       const tasks::Task& t) {
  DeploymentInput in;
  in.space_id = t.space_id;
  const std::string id = core::StringMember(t.arguments, "RunbookRunId");
  CUTTLE_TRY(auto run, repo::FindRunbookRun(db, t.space_id, id));
  if (!run) return Fail(Error::NotFound("The runbook run " + id + " no longer exists."));
  CUTTLE_TRY(auto snapshot, repo::FindRunbookSnapshot(db, t.space_id, run->snapshot_id));
  if (!snapshot) {
    return Fail(Error::NotFound("The runbook snapshot " + run->snapshot_id + " no longer exists."));
  }
  in.document_id = run->id;
  in.what = "runbook snapshot " + snapshot->name;
  const json& doc = run->json;
  in.request.environment_id = run->environment_id;
  in.request.process_owner_id = run->runbook_id;
  in.request.skip_actions = Strings(doc.value("SkipActions", json::array()));
  in.request.specific_machine_ids = Strings(doc.value("SpecificMachineIds", json::array()));
  in.request.excluded_machine_ids = Strings(doc.value("ExcludedMachineIds", json::array()));
  in.request.selected_packages = snapshot->json.value("SelectedPackages", json(nullptr));
  if (in.request.selected_packages.is_array() && in.request.selected_packages.empty()) {
    in.request.selected_packages = nullptr;  // runbook snapshots do not select packages yet
  }
  in.use_guided_failure = core::FlagMember(doc, "UseGuidedFailure");
  CUTTLE_TRY(in.process,
             FrozenSteps(db, t.space_id, snapshot->json.value("FrozenRunbookProcessId", "")));
  in.facts.deployment_id = run->id;
  in.facts.deployment_name = core::StringMember(doc, "Name");
  in.facts.deployment_created = run->created;
  in.facts.specific_machine_ids = in.request.specific_machine_ids;
  in.facts.excluded_machine_ids = in.request.excluded_machine_ids;
  CUTTLE_TRY_VOID(LoadCommon(db, secrets, run->project_id,
                             snapshot->json.value("FrozenProjectVariableSetId", ""),
                             snapshot->json.value("LibraryVariableSetSnapshotIds", json::array()),
                             doc.value("FormValues", json::object()), in));
  return in;
}

std::vector<std::string> NoArgumentChecks(json&) { return {}; }

tasks::TaskOutcome RunTask(tasks::TaskExecution& x, const OrchestratorOptions& o) {
  auto input = LoadDeployment(*o.db, *o.secrets, x.task());
  if (!input) {
    std::string error = input.error().message();
    for (const auto& d : input.error().details()) error += "\n" + d;
    (void)x.log().Append(engine::LogCategory::kError, error);
    return {.state = tasks::TaskState::kFailed, .error = input.error().message()};
  }
  return RunDeployment(x, *input, o);
}

}  // namespace

Result<DeploymentInput> LoadDeployment(db::Database& db, const crypto::SecretBox& secrets,
                                       const tasks::Task& task) {
  if (core::EqualsIgnoreCase(task.name, "RunbookRun")) return LoadRunbookRun(db, secrets, task);
  return LoadRelease(db, secrets, task);
}

Result<void> RegisterDeploymentKinds(tasks::TaskKinds& kinds, OrchestratorOptions options) {
  if (options.db == nullptr || options.secrets == nullptr) {
    return Fail(Error::InvalidArgument("The deployment kinds need a database and a secret box."));
  }
  auto shared = std::make_shared<const OrchestratorOptions>(std::move(options));
  for (const char* name : {"Deploy", "RunbookRun"}) {
    tasks::TaskKind kind;
    kind.name = name;
    // Resumable: the progress is in deployment_units, so the dead-node policy queues the task
    // again and the next owner adopts it (docs/engine.md, "Adoption").
    kind.idempotent = true;
    kind.creatable_by_api = false;
    kind.validate = NoArgumentChecks;
    kind.run = [shared](tasks::TaskExecution& x) { return RunTask(x, *shared); };
    CUTTLE_TRY_VOID(kinds.Register(std::move(kind)));
  }
  return {};
}

}  // namespace cuttle::deploy
