// Runbooks (reference-octopus-api.md §2.9): runbooks with their process (a row of project-model's
// processes, kind Runbook), snapshots (a frozen process and variables; publishing one makes it
// what runs by default) and runs (POST /runbook-runs/create/v1 → a RunbookRun server task per
// environment, in the runbook's environment scope).
#include "repo/runbooks.h"

#include <fmt/format.h>

#include "api/deploy_common.h"
#include "api/release_handlers.h"
#include "core/ids.h"
#include "core/strings.h"
#include "model/process.h"
#include "model/project.h"
#include "model/runbook.h"
#include "repo/processes.h"
#include "repo/releases.h"
#include "repo/variable_sets.h"
#include "tasks/task_queue.h"

namespace cuttle::api {

using nlohmann::json;

namespace {

// A runbook snapshot's frozen process: a row of processes that no save reaches.
constexpr const char* kRunbookProcessSnapshot = "RunbookSnapshot";

const std::vector<std::string> kScopes = {"All", "Specified", "FromProjectLifecycles"};

Result<repo::RunbookRow> RouteRunbook(ApiContext& ctx, const http::Request& req,
                                      std::string& space) {
  CUTTLE_TRY(space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto rb, repo::FindRunbook(ctx.db, space, req.Param("id")));
  if (!rb) return Fail(Error::NotFound("runbook", req.Param("id")));
  // Under /projects/{projectId}/..., the runbook must be that project's.
  const std::string& project = req.Param("projectId");
  if (!project.empty() && !core::EqualsIgnoreCase(project, rb->project_id)) {
    return Fail(Error::NotFound("runbook", req.Param("id")));
  }
  return *rb;
}

// Reads the editable fields of a runbook body into `row`; checks the environments named.
void BindRunbook(ApiContext& ctx, Binder& b, const std::string& space, repo::RunbookRow& row,
                 bool creating) {
  row.name = b.RequiredString("Name");
  json& doc = row.json;
  doc["Description"] = b.String("Description", doc.value("Description", ""));
  doc["EnvironmentScope"] =
      b.Enum("EnvironmentScope", kScopes, doc.value("EnvironmentScope", "All"));
  const auto envs = b.StringList("Environments");
  doc["Environments"] = envs;
  for (const auto& e : envs) {
    auto found = repo::FindEnvironment(ctx.db, space, e);
    if (!found || !*found) b.Problem("The environment '" + e + "' does not exist in this space.");
  }
  if (doc["EnvironmentScope"] == "Specified" && envs.empty()) {
    b.Problem("A runbook scoped to Specified environments must name at least one.");
  }
  doc["MultiTenancyMode"] =
      b.String("MultiTenancyMode", doc.value("MultiTenancyMode", "Untenanted"));
  doc["DefaultGuidedFailureMode"] = b.String(
      "DefaultGuidedFailureMode", doc.value("DefaultGuidedFailureMode", "EnvironmentDefault"));
  if (b.Has("RunRetentionPolicy")) doc["RunRetentionPolicy"] = b.Object("RunRetentionPolicy");
  if (!doc.contains("RunRetentionPolicy")) {
    doc["RunRetentionPolicy"] = {{"QuantityToKeep", 100}, {"ShouldKeepForever", false}};
  }
  if (b.Has("ConnectivityPolicy")) doc["ConnectivityPolicy"] = b.Object("ConnectivityPolicy");
  if (!creating && b.Has("PublishedRunbookSnapshotId")) {
    row.published_snapshot_id = b.String("PublishedRunbookSnapshotId");
    if (row.published_snapshot_id->empty()) row.published_snapshot_id.reset();
  }
}

// The environments a run of `rb` may target (its EnvironmentScope).
Result<std::vector<std::string>> ScopeEnvironments(ApiContext& ctx, const std::string& space,
                                                   const repo::RunbookRow& rb,
                                                   const repo::ProjectRow& project) {
  const std::string scope = rb.json.value("EnvironmentScope", "All");
  std::vector<std::string> out;
  if (scope == "Specified") {
    for (const auto& e : rb.json.value("Environments", json::array())) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
    return out;
  }
  if (scope == "FromProjectLifecycles") {
    CUTTLE_TRY(auto channel, ResolveChannel(ctx, space, project, ""));
    if (!channel) return out;
    CUTTLE_TRY(auto lifecycle, LoadLifecycle(ctx, space, project, *channel));
    for (const auto& phase : lifecycle.phases) {
      out.insert(out.end(), phase.environment_ids.begin(), phase.environment_ids.end());
    }
    return out;
  }
  CUTTLE_TRY(auto rs, ctx.db.Execute("SELECT id FROM environments WHERE space_id = $1", {space}));
  for (const auto& r : rs.rows) out.push_back(r.GetString(0));
  return out;
}

// The process resource with the runbook's project (the api-client reads ProjectId).
json RunbookProcessJson(ApiContext& ctx, const std::string& space, const repo::ProcessRow& p) {
  json out = model::ProcessJson(p);
  auto rb = repo::FindRunbook(ctx.db, space, p.owner_id);
  if (rb && *rb) out["ProjectId"] = (*rb)->project_id;
  out["RunbookId"] = p.owner_id;
  return out;
}

}  // namespace

Result<http::Response> ListRunbooks(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::RunbookFilter f{space, std::nullopt};
  if (!req.Param("projectId").empty()) {
    CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, req.Param("projectId")));
    if (!project) return Fail(Error::NotFound("project", req.Param("projectId")));
    f.project_id = project->id;
  } else if (auto p = req.Query("projectIds")) {
    f.project_id = *p;
  }
  CUTTLE_TRY(auto page, repo::ListRunbooks(ctx.db, f, q));
  return ListResponse<repo::RunbookRow>("Runbook", req, page, q, model::RunbookJson);
}

Result<http::Response> GetRunbook(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto rb, RouteRunbook(ctx, req, space));
  return http::Response::Json(200, model::RunbookJson(rb));
}

Result<http::Response> CreateRunbook(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  std::string project_ref = req.Param("projectId");
  if (project_ref.empty()) project_ref = b.RequiredString("ProjectId");
  repo::RunbookRow row;
  row.space_id = space;
  BindRunbook(ctx, b, space, row, true);
  std::optional<repo::ProjectRow> project;
  if (!project_ref.empty()) {
    CUTTLE_TRY(project, repo::FindProject(ctx.db, space, project_ref));
    if (!project) b.Problem("The project '" + project_ref + "' does not exist in this space.");
  }
  CUTTLE_TRY_VOID(b.Finish("runbook"));
  row.project_id = project->id;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(row.seq, repo::NextRunbookSeq(tx));
    const std::string id = core::MakeId("Runbooks", row.seq);
    row.process_id = "RunbookProcess-" + id;
    CUTTLE_TRY(row, repo::InsertRunbook(tx, row));
    repo::ProcessRow process;
    process.id = row.process_id;
    process.space_id = space;
    process.owner_id = row.id;
    process.kind = repo::kRunbookProcess;
    CUTTLE_TRY_VOID(repo::InsertProcess(tx, process));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created", "Runbook " + row.name + " created",
                                {row.id, row.project_id}));
    return {};
  }));
  return http::Response::Json(201, model::RunbookJson(row));
}

Result<http::Response> UpdateRunbook(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto row, RouteRunbook(ctx, req, space));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  BindRunbook(ctx, b, space, row, false);
  if (row.published_snapshot_id) {
    auto snap = repo::FindRunbookSnapshot(ctx.db, space, *row.published_snapshot_id, row.id);
    if (!snap || !*snap) {
      b.Problem("The snapshot '" + *row.published_snapshot_id +
                "' is not a snapshot of this runbook.");
    }
  }
  CUTTLE_TRY_VOID(b.Finish("runbook"));
  // Written only if nobody saved the runbook (or published a snapshot of it) since it was read
  // above: otherwise their change would be silently undone.
  const int64_t expected = row.revision;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto revision, repo::UpdateRunbook(tx, row, expected));
    if (!revision) {
      return Fail(Error::Conflict("The runbook " + row.name +
                                  " was changed by someone else while this edit was made; reload "
                                  "it and save again."));
    }
    row.revision = *revision;
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified", "Runbook " + row.name + " modified",
                                {row.id, row.project_id}));
    return {};
  }));
  return http::Response::Json(200, model::RunbookJson(row));
}

Result<http::Response> DeleteRunbook(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto row, RouteRunbook(ctx, req, space));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(const bool exists, repo::LockRunbook(tx, ctx.db.dialect(), row.id, true));
    if (!exists) return {};  // deleted meanwhile
    // A queued or executing run reads the snapshot's frozen variables, which go with the runbook.
    CUTTLE_TRY(auto task, repo::ActiveRunbookRunTask(tx, row.id));
    if (task) {
      return Fail(Error::Conflict(
          fmt::format("The runbook '{}' has a run that is still queued or executing ({}): wait "
                      "for it to finish or cancel it before deleting the runbook.",
                      row.name, *task)));
    }
    CUTTLE_TRY_VOID(repo::DeleteRunbook(tx, row.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted", "Runbook " + row.name + " deleted",
                                {row.id, row.project_id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

Result<http::Response> GetRunbookProcess(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto process, repo::FindProcess(ctx.db, space, req.Param("id")));
  if (!process || process->kind != repo::kRunbookProcess) {
    // A snapshot's frozen runbook process reads the same way.
    if (process && process->kind == kRunbookProcessSnapshot) {
      return http::Response::Json(200, RunbookProcessJson(ctx, space, *process));
    }
    return Fail(Error::NotFound("runbook process", req.Param("id")));
  }
  return http::Response::Json(200, RunbookProcessJson(ctx, space, *process));
}

Result<http::Response> UpdateRunbookProcess(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto process, repo::FindProcess(ctx.db, space, req.Param("id")));
  if (!process || process->kind != repo::kRunbookProcess) {
    return Fail(Error::NotFound("runbook process", req.Param("id")));
  }
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const int64_t expected = b.Int("Version", process->version);
  std::vector<std::string> problems;
  model::ProcessReferences refs;
  process->steps = model::NormalizeSteps(b.Array("Steps"), problems, refs);
  for (auto& p : problems) b.Problem(std::move(p));
  for (const auto& env : refs.environments) {
    auto found = repo::FindEnvironment(ctx.db, space, env);
    if (!found || !*found) b.Problem("The environment '" + env + "' does not exist in this space.");
  }
  CUTTLE_TRY_VOID(b.Finish("runbook process"));
  std::optional<int64_t> version;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(version, repo::UpdateProcess(tx, *process, expected));
    if (!version) {
      return Fail(
          Error::Conflict("The runbook process was changed by someone else (it is no "
                          "longer version " +
                          std::to_string(expected) + "); reload it and save again."));
    }
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "Runbook process " + process->id + " modified",
                                {process->id, process->owner_id}));
    return {};
  }));
  process->version = *version;
  return http::Response::Json(200, RunbookProcessJson(ctx, space, *process));
}

Result<http::Response> ListRunbookSnapshots(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  std::optional<std::string> runbook;
  if (!req.Param("runbookId").empty()) runbook = req.Param("runbookId");
  CUTTLE_TRY(auto page, repo::ListRunbookSnapshots(ctx.db, space, runbook, q));
  return ListResponse<repo::RunbookSnapshotRow>("RunbookSnapshot", req, page, q,
                                                model::RunbookSnapshotJson);
}

Result<http::Response> GetRunbookSnapshot(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto s, repo::FindRunbookSnapshot(ctx.db, space, req.Param("id")));
  if (!s) return Fail(Error::NotFound("runbook snapshot", req.Param("id")));
  return http::Response::Json(200, model::RunbookSnapshotJson(*s));
}

// POST /runbookSnapshots[?publish=true] {ProjectId, RunbookId, Name, Notes}.
Result<http::Response> CreateRunbookSnapshot(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const std::string runbook_id = b.RequiredString("RunbookId");
  std::string name = b.String("Name");
  auto notes = b.OptionalString("Notes");
  const bool publish =
      core::EqualsIgnoreCase(req.Query("publish").value_or(""), "true") || b.Bool("Publish");
  CUTTLE_TRY_VOID(b.Finish("runbook snapshot"));
  CUTTLE_TRY(auto rb, repo::FindRunbook(ctx.db, space, runbook_id));
  if (!rb) {
    return Fail(
        Error::InvalidArgument("The runbook '" + runbook_id + "' does not exist in this space."));
  }
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, rb->project_id));
  if (!project) return Fail(Error::NotFound("project", rb->project_id));
  repo::RunbookSnapshotRow row;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    row = {};
    row.space_id = space;
    row.project_id = rb->project_id;
    row.runbook_id = rb->id;
    row.name = name;  // empty: InsertRunbookSnapshot numbers it
    CUTTLE_TRY(auto process, repo::FindProcess(tx, space, rb->process_id));
    // The frozen process and variables (owned by the runbook, so neither can be saved).
    CUTTLE_TRY(auto process_snapshot, repo::NextSnapshotId(tx, rb->process_id));
    repo::ProcessRow frozen;
    frozen.id = process_snapshot;
    frozen.space_id = space;
    frozen.owner_id = rb->id;
    frozen.kind = kRunbookProcessSnapshot;
    frozen.version = process ? process->version : 0;
    frozen.last_snapshot_id = process_snapshot;
    frozen.steps = process ? process->steps : json::array();
    CUTTLE_TRY_VOID(repo::InsertProcess(tx, frozen));
    // The project's variables and the library sets it includes, frozen as a release's are.
    CUTTLE_TRY(auto variables, FreezeProjectVariables(tx, space, *project, rb->id));
    row.json = {{"Notes", notes ? json(*notes) : json(nullptr)},
                {"FrozenRunbookProcessId", process_snapshot},
                {"FrozenProjectVariableSetId", variables.project_set},
                {"LibraryVariableSetSnapshotIds", variables.library_sets},
                {"SelectedPackages", json::array()}};
    CUTTLE_TRY(row, repo::InsertRunbookSnapshot(tx, row));
    if (publish) {
      // Only the published snapshot is written: an edit of the runbook made since it was read
      // above is kept.
      CUTTLE_TRY(auto found, repo::PublishRunbookSnapshot(tx, rb->id, row.id));
      if (!found) return Fail(Error::NotFound("runbook", rb->id));
    }
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created",
                                "Runbook snapshot " + row.name + " created for " + rb->name +
                                    (publish ? " and published" : ""),
                                {row.id, rb->id, rb->project_id}));
    return {};
  }));
  return http::Response::Json(201, model::RunbookSnapshotJson(row));
}

// POST /runbook-runs/create/v1 {ProjectName, RunbookName, EnvironmentNames[], Snapshot?, ...}.
Result<http::Response> CreateRunbookRunV1(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const std::string project_ref = b.RequiredString("ProjectName");
  const std::string runbook_ref = b.RequiredString("RunbookName");
  auto environments = b.StringList("EnvironmentNames");
  if (environments.empty() && b.ok()) b.Problem("The EnvironmentNames field is required.");
  const std::string snapshot_ref = b.String("Snapshot");
  json form_values = b.Object("Variables");
  if (!b.StringList("Tenants").empty() || !b.StringList("TenantTags").empty()) {
    b.Problem("Tenanted runbook runs are not supported yet.");
  }
  CUTTLE_TRY_VOID(b.Finish("runbook run"));
  CUTTLE_TRY(auto project, ResolveProject(ctx, space, project_ref));
  if (!project) {
    return Fail(
        Error::InvalidArgument("The project '" + project_ref + "' does not exist in this space."));
  }
  CUTTLE_TRY(auto rb, repo::FindRunbookByName(ctx.db, project->id, runbook_ref));
  if (!rb) {
    CUTTLE_TRY(rb, repo::FindRunbook(ctx.db, space, runbook_ref));
    if (rb && rb->project_id != project->id) rb.reset();
  }
  if (!rb) {
    return Fail(Error::InvalidArgument("The project " + project->name + " has no runbook '" +
                                       runbook_ref + "'."));
  }
  std::optional<repo::RunbookSnapshotRow> snapshot;
  if (!snapshot_ref.empty()) {
    CUTTLE_TRY(snapshot, repo::FindRunbookSnapshot(ctx.db, space, snapshot_ref, rb->id));
    if (!snapshot) {
      return Fail(Error::InvalidArgument("The runbook " + rb->name + " has no snapshot '" +
                                         snapshot_ref + "'."));
    }
  } else if (rb->published_snapshot_id) {
    CUTTLE_TRY(snapshot, repo::FindRunbookSnapshot(ctx.db, space, *rb->published_snapshot_id));
  }
  if (!snapshot) {
    return Fail(Error::InvalidArgument("The runbook " + rb->name +
                                       " has no published snapshot: publish one, or name a "
                                       "snapshot to run."));
  }
  CUTTLE_TRY(auto allowed, ScopeEnvironments(ctx, space, *rb, *project));
  std::vector<repo::EnvironmentRow> envs;
  for (const auto& ref : environments) {
    CUTTLE_TRY(auto env, ResolveEnvironment(ctx, space, ref));
    if (!env) {
      return Fail(
          Error::InvalidArgument("The environment '" + ref + "' does not exist in this space."));
    }
    if (std::find(allowed.begin(), allowed.end(), env->id) == allowed.end()) {
      return Fail(Error::InvalidArgument("The runbook " + rb->name + " cannot run in " + env->name +
                                         ": the environment is outside its scope (" +
                                         rb->json.value("EnvironmentScope", "All") + ")."));
    }
    envs.push_back(std::move(*env));
  }
  json answer = json::array();
  std::vector<std::string> task_ids;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    answer = json::array();
    task_ids.clear();
    // Held until the commit: a concurrent delete either waits and then sees these runs, or has
    // already removed the runbook.
    CUTTLE_TRY(const bool exists, repo::LockRunbook(tx, ctx.db.dialect(), rb->id, false));
    if (!exists) {
      return Fail(Error::NotFound(fmt::format("The runbook {} was deleted.", rb->name)));
    }
    for (const auto& env : envs) {
      CUTTLE_TRY(auto seq, repo::NextRunbookRunSeq(tx));
      const std::string run_id = core::MakeId("RunbookRuns", seq);
      tasks::NewTask t;
      t.space_id = space;
      t.name = "RunbookRun";
      t.description = "Run " + rb->name + " in " + env.name;
      t.arguments = {{"RunbookRunId", run_id},
                     {"RunbookId", rb->id},
                     {"ProjectId", project->id},
                     {"EnvironmentId", env.id},
                     {"RunbookSnapshotId", snapshot->id}};
      t.concurrency_tag = rb->id + "/" + env.id;
      t.idempotent = true;  // resumable: its progress is in deployment_units (docs/engine.md)
      t.created_by = Caller(req).id;
      CUTTLE_TRY(auto task, ctx.queue.EnqueueIn(tx, t));
      repo::RunbookRunRow run;
      run.seq = seq;
      run.space_id = space;
      run.project_id = project->id;
      run.runbook_id = rb->id;
      run.snapshot_id = snapshot->id;
      run.environment_id = env.id;
      run.task_id = task.id;
      run.json = {{"Name", rb->name},
                  {"FormValues", form_values},
                  {"FrozenRunbookProcessId", snapshot->json.value("FrozenRunbookProcessId", "")}};
      CUTTLE_TRY(run, repo::InsertRunbookRun(tx, run));
      CUTTLE_TRY_VOID(
          RecordEvent(tx, req, space, "RunbookRunQueued",
                      "Run " + rb->name + " (" + snapshot->name + ") in " + env.name + " queued",
                      {run.id, rb->id, project->id, env.id, task.id, snapshot->id}));
      answer.push_back({{"RunbookRunId", run.id}, {"ServerTaskId", task.id}});
      task_ids.push_back(task.id);
    }
    return {};
  }));
  for (const auto& id : task_ids) ctx.queue.Announce(id);
  return http::Response::Json(200, {{"RunbookRunServerTasks", answer}});
}

Result<http::Response> ListRunbookRuns(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  auto list = [&](const char* name) {
    auto v = req.Query(name);
    return v ? core::Split(*v, ',') : std::vector<std::string>{};
  };
  CUTTLE_TRY(auto page, repo::ListRunbookRuns(ctx.db, space, list("projects"), list("runbooks"),
                                              list("environments"), q));
  return ListResponse<repo::RunbookRunRow>("RunbookRun", req, page, q, model::RunbookRunJson);
}

Result<http::Response> GetRunbookRun(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto run, repo::FindRunbookRun(ctx.db, space, req.Param("id")));
  if (!run) return Fail(Error::NotFound("runbook run", req.Param("id")));
  return http::Response::Json(200, model::RunbookRunJson(*run));
}

}  // namespace cuttle::api
