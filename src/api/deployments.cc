// Deployments (reference-octopus-api.md §2.8) and the dashboard (reference-octopus-deployment-
// model.md §2.13). A deployment is allowed by the lifecycle's promotion rules (model/promotion.h),
// and queues a Deploy server task in the transaction that writes it, with the concurrency tag
// "<project>/<environment>": one deployment at a time per project and environment.
#include "repo/deployments.h"

#include <fmt/format.h>

#include <map>

#include "api/deploy_common.h"
#include "api/release_handlers.h"
#include "core/json.h"
#include "core/strings.h"
#include "model/release.h"
#include "model/task.h"
#include "repo/processes.h"
#include "repo/releases.h"
#include "tasks/task_queue.h"

namespace cuttle::api {

using nlohmann::json;

namespace {

struct DeployOptions {
  std::string comments;
  json form_values = json::object();
  std::vector<std::string> specific_machines, excluded_machines, skip_actions;
  std::optional<bool> use_guided_failure;
  std::optional<int64_t> queue_time, queue_time_expiry;
  bool force_package_download = false, force_package_redeployment = false;
  // Re-freeze the release's variables from the project's current ones first (the v1 command's
  // UpdateVariableSnapshot), in the deployment's transaction.
  bool update_variable_snapshot = false;
};

// What the lifecycle check needs of the plan's release (the channel's lifecycle and the
// environments the release succeeded in), from the database.
Result<ReleaseGate> LoadGate(ApiContext& ctx, const std::string& space, const DeployPlan& plan) {
  CUTTLE_TRY(auto channel, repo::FindChannel(ctx.db, space, plan.release.channel_id));
  if (!channel) return Fail(Error::NotFound("channel", plan.release.channel_id));
  ReleaseGate gate;
  CUTTLE_TRY(gate.lifecycle, LoadLifecycle(ctx, space, plan.project, *channel));
  CUTTLE_TRY(gate.succeeded, repo::SucceededEnvironments(ctx.db, plan.release.id));
  return gate;
}

// Writes the deployment, its Deploy task and the DeploymentQueued event in `tx`.
Result<std::pair<repo::DeploymentRow, tasks::Task>> WriteDeployment(
    ApiContext& ctx, db::Transaction& tx, const http::Request& req, const std::string& space,
    const DeployPlan& plan, const DeployOptions& o) {
  CUTTLE_TRY(auto seq, repo::ReserveDeploymentSeq(tx));
  const std::string deployment_id = "Deployments-" + std::to_string(seq);
  tasks::NewTask t;
  t.space_id = space;
  t.name = "Deploy";
  t.description = "Deploy " + plan.project.name + " release " + plan.release.version + " to " +
                  plan.environment.name;
  t.arguments = {{"DeploymentId", deployment_id},
                 {"ProjectId", plan.project.id},
                 {"ReleaseId", plan.release.id},
                 {"EnvironmentId", plan.environment.id},
                 {"ChannelId", plan.release.channel_id}};
  t.concurrency_tag = plan.project.id + "/" + plan.environment.id;
  t.idempotent = true;  // resumable: its progress is in deployment_units (docs/engine.md)
  t.queue_time = o.queue_time;
  t.queue_time_expiry = o.queue_time_expiry;
  t.created_by = Caller(req).id;
  CUTTLE_TRY(auto task, ctx.queue.EnqueueIn(tx, t));

  repo::DeploymentRow d;
  d.seq = seq;
  d.space_id = space;
  d.project_id = plan.project.id;
  d.environment_id = plan.environment.id;
  d.release_id = plan.release.id;
  d.channel_id = plan.release.channel_id;
  d.task_id = task.id;
  const bool guided = o.use_guided_failure.value_or(plan.environment.use_guided_failure);
  d.json = {
      {"Name", "Deploy to " + plan.environment.name},
      {"Comments", o.comments},
      {"FormValues", o.form_values},
      {"SpecificMachineIds", o.specific_machines},
      {"ExcludedMachineIds", o.excluded_machines},
      {"SkipActions", o.skip_actions},
      {"UseGuidedFailure", guided},
      {"ForcePackageDownload", o.force_package_download},
      {"ForcePackageRedeployment", o.force_package_redeployment},
      {"DeploymentProcessId", plan.release.json.value("ProjectDeploymentProcessSnapshotId", "")},
      {"ManifestVariableSetId", plan.release.json.value("ProjectVariableSetSnapshotId", "")},
      {"QueueTime", o.queue_time ? json(core::FormatIso8601(*o.queue_time)) : json(nullptr)},
      {"QueueTimeExpiry",
       o.queue_time_expiry ? json(core::FormatIso8601(*o.queue_time_expiry)) : json(nullptr)},
      {"DeployedBy", Caller(req).username},
      {"DeployedById", Caller(req).id},
      {"ChangesMarkdown", ""}};
  CUTTLE_TRY(d, repo::InsertDeployment(tx, d));
  const std::string when =
      o.queue_time ? " at " + core::FormatIso8601(*o.queue_time) : std::string();
  CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "DeploymentQueued",
                              "Scheduled to deploy " + plan.project.name + " release " +
                                  plan.release.version + " to " + plan.environment.name + when,
                              {d.id, plan.project.id, plan.release.id, plan.environment.id, task.id,
                               plan.release.channel_id}));
  return std::make_pair(std::move(d), std::move(task));
}

// Deploys to each plan in one transaction, then hands the tasks to the queue.
Result<std::vector<std::pair<repo::DeploymentRow, tasks::Task>>> Deploy(
    ApiContext& ctx, const http::Request& req, const std::string& space,
    const std::vector<DeployPlan>& plans, const DeployOptions& o) {
  CUTTLE_TRY_VOID(
      CheckDeployable(plans, [&](const DeployPlan& plan) { return LoadGate(ctx, space, plan); }));
  std::vector<std::pair<repo::DeploymentRow, tasks::Task>> out;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    out.clear();
    if (o.update_variable_snapshot && !plans.empty()) {
      // Every plan deploys the same release (one command names one release).
      CUTTLE_TRY_VOID(
          ResnapshotReleaseVariables(tx, req, space, plans.front().project, plans.front().release));
    }
    for (const auto& plan : plans) {
      CUTTLE_TRY(auto written, WriteDeployment(ctx, tx, req, space, plan, o));
      out.push_back(std::move(written));
    }
    return {};
  }));
  for (const auto& [d, t] : out) ctx.queue.Announce(t.id);
  return out;
}

std::optional<int64_t> ReadTime(Binder& b, const char* name) {
  auto text = b.OptionalString(name);
  if (!text || text->empty()) return std::nullopt;
  auto ms = core::ParseIso8601(*text);
  if (!ms) b.Problem(std::string("The ") + name + " field must be an ISO 8601 date and time.");
  return ms;
}

std::vector<std::string> QueryList(const http::Request& req, const char* name) {
  auto v = req.Query(name);
  if (!v) return {};
  return core::Split(*v, ',');
}

}  // namespace

// POST /deployments: the legacy resource create (ReleaseId, EnvironmentId, ...).
Result<http::Response> CreateDeployment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const std::string release_id = b.RequiredString("ReleaseId");
  const std::string environment_id = b.RequiredString("EnvironmentId");
  DeployOptions o;
  o.comments = b.String("Comments");
  o.form_values = b.Object("FormValues");
  o.specific_machines = b.StringList("SpecificMachineIds");
  o.excluded_machines = b.StringList("ExcludedMachineIds");
  o.skip_actions = b.StringList("SkipActions");
  if (b.Has("UseGuidedFailure")) o.use_guided_failure = b.Bool("UseGuidedFailure");
  o.queue_time = ReadTime(b, "QueueTime");
  o.queue_time_expiry = ReadTime(b, "QueueTimeExpiry");
  o.force_package_download = b.Bool("ForcePackageDownload");
  o.force_package_redeployment = b.Bool("ForcePackageRedeployment");
  if (b.Has("TenantId")) b.Problem("Tenanted deployments are not supported yet.");
  CUTTLE_TRY_VOID(b.Finish("deployment"));
  DeployPlan plan;
  CUTTLE_TRY(auto release, repo::FindRelease(ctx.db, space, release_id));
  if (!release) {
    return Fail(
        Error::InvalidArgument("The release '" + release_id + "' does not exist in this space."));
  }
  plan.release = std::move(*release);
  CUTTLE_TRY(auto env, repo::FindEnvironment(ctx.db, space, environment_id));
  if (!env) {
    return Fail(Error::InvalidArgument("The environment '" + environment_id +
                                       "' does not exist in this space."));
  }
  plan.environment = std::move(*env);
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, plan.release.project_id));
  if (!project) return Fail(Error::NotFound("project", plan.release.project_id));
  plan.project = std::move(*project);
  CUTTLE_TRY(auto done, Deploy(ctx, req, space, {plan}, o));
  return http::Response::Json(201, model::DeploymentJson(done.front().first));
}

// POST /deployments/create/untenanted/v1: the api-client's command.
Result<http::Response> CreateDeploymentUntenantedV1(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const std::string project_ref = b.RequiredString("ProjectName");
  const std::string version = b.RequiredString("ReleaseVersion");
  auto environments = b.StringList("EnvironmentNames");
  if (environments.empty() && b.ok()) b.Problem("The EnvironmentNames field is required.");
  DeployOptions o;
  o.form_values = b.Object("Variables");
  if (b.Has("UseGuidedFailure")) o.use_guided_failure = b.Bool("UseGuidedFailure");
  o.queue_time = ReadTime(b, "RunAt");
  o.queue_time_expiry = ReadTime(b, "NoRunAfter");
  o.force_package_download = b.Bool("ForcePackageDownload");
  o.force_package_redeployment = b.Bool("ForcePackageRedeployment");
  o.update_variable_snapshot = b.Bool("UpdateVariableSnapshot");
  auto specific = b.StringList("SpecificMachineNames");
  auto excluded = b.StringList("ExcludedMachineNames");
  auto skip_steps = b.StringList("SkipStepNames");
  CUTTLE_TRY_VOID(b.Finish("deployment"));
  CUTTLE_TRY(auto project, ResolveProject(ctx, space, project_ref));
  if (!project) {
    return Fail(
        Error::InvalidArgument("The project '" + project_ref + "' does not exist in this space."));
  }
  CUTTLE_TRY(auto release, repo::FindReleaseByVersion(ctx.db, project->id, version));
  if (!release) {
    return Fail(Error::InvalidArgument("The project " + project->name +
                                       " has no release with the version '" + version + "'."));
  }
  // Machine names to ids (the machines table is infra-model's).
  auto machine_ids = [&](const std::vector<std::string>& names,
                         std::vector<std::string>& out) -> Result<void> {
    for (const auto& n : names) {
      CUTTLE_TRY(auto rs, ctx.db.Execute("SELECT id FROM machines WHERE space_id = $1 AND "
                                         "(lower(name) = lower($2) OR lower(id) = lower($2))",
                                         {space, n}));
      if (rs.empty()) {
        return Fail(Error::InvalidArgument("The deployment target '" + n +
                                           "' does not exist in this space."));
      }
      out.push_back(rs.front().GetString(0));
    }
    return {};
  };
  CUTTLE_TRY_VOID(machine_ids(specific, o.specific_machines));
  CUTTLE_TRY_VOID(machine_ids(excluded, o.excluded_machines));
  if (!skip_steps.empty()) {
    CUTTLE_TRY(auto snapshot,
               repo::FindProcess(ctx.db, space,
                                 release->json.value("ProjectDeploymentProcessSnapshotId", "")));
    for (const auto& name : skip_steps) {
      bool found = false;
      if (snapshot) {
        for (const auto& step : snapshot->steps) {
          for (const auto& action : step.value("Actions", json::array())) {
            if (core::EqualsIgnoreCase(action.value("Name", ""), name) ||
                core::EqualsIgnoreCase(step.value("Name", ""), name)) {
              o.skip_actions.push_back(action.value("Id", ""));
              found = true;
            }
          }
        }
      }
      if (!found) {
        return Fail(
            Error::InvalidArgument("The release's process has no step named '" + name + "'."));
      }
    }
  }
  std::vector<DeployPlan> plans;
  for (const auto& ref : environments) {
    CUTTLE_TRY(auto env, ResolveEnvironment(ctx, space, ref));
    if (!env) {
      return Fail(
          Error::InvalidArgument("The environment '" + ref + "' does not exist in this space."));
    }
    plans.push_back(DeployPlan{*project, *release, std::move(*env)});
  }
  CUTTLE_TRY(auto done, Deploy(ctx, req, space, plans, o));
  json tasks = json::array();
  for (const auto& [d, t] : done) tasks.push_back({{"DeploymentId", d.id}, {"ServerTaskId", t.id}});
  return http::Response::Json(200, {{"DeploymentServerTasks", tasks}});
}

Result<http::Response> ListDeployments(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::DeploymentFilter f;
  f.space_id = space;
  f.projects = QueryList(req, "projects");
  f.environments = QueryList(req, "environments");
  f.channels = QueryList(req, "channels");
  for (const auto& s : QueryList(req, "taskState")) {
    auto state = tasks::ParseState(s);
    if (!state) {
      return Fail(Error::InvalidArgument("'" + s +
                                         "' is not a task state (expected Queued, "
                                         "Executing, Cancelling, Success, Failed, Canceled or "
                                         "TimedOut)."));
    }
    f.task_states.push_back(tasks::StateName(*state));
  }
  if (!QueryList(req, "tenants").empty()) {
    // No tenants exist yet, so no deployment belongs to one.
    f.projects = {""};
  }
  CUTTLE_TRY(auto page, repo::ListDeployments(ctx.db, f, q));
  return ListResponse<repo::DeploymentRow>("Deployment", req, page, q, model::DeploymentJson);
}

Result<http::Response> GetDeployment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto d, repo::FindDeployment(ctx.db, space, req.Param("id")));
  if (!d) return Fail(Error::NotFound("deployment", req.Param("id")));
  return http::Response::Json(200, model::DeploymentJson(*d));
}

Result<http::Response> DeleteDeployment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto d, repo::FindDeployment(ctx.db, space, req.Param("id")));
  if (!d) return Fail(Error::NotFound("deployment", req.Param("id")));
  CUTTLE_TRY(auto task, ctx.queue.Get(d->task_id));
  if (task && !tasks::IsFinal(task->state)) {
    return Fail(Error::InvalidArgument(
        "The deployment " + d->id + " is still running (" + d->task_id + " is " +
        tasks::StateName(model::ShownState(*task)) + "); cancel its task first."));
  }
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(repo::DeleteDeployment(tx, d->id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted", "Deployment " + d->id + " deleted",
                                {d->id, d->project_id, d->release_id, d->environment_id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
