#include "tasks/deployment_kinds.h"

#include <fmt/format.h>

#include "core/json.h"
#include "core/strings.h"

namespace cuttle::tasks {

using nlohmann::json;

namespace {

bool Lists(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  for (const auto& v : list) {
    if (v.is_string() && core::EqualsIgnoreCase(v.get<std::string>(), value)) return true;
  }
  return false;
}

bool Empty(const json& list) { return !list.is_array() || list.empty(); }

// The frozen process of what the task runs: steps, environment, channel and skipped actions.
struct Frozen {
  json steps = json::array();
  std::string environment_id, environment_name, channel_id, what;
  json skip = json::array();
};

Result<json> SnapshotSteps(db::Database& db, const std::string& snapshot_id) {
  // A frozen process is a row of processes whose json is its Steps array.
  CUTTLE_TRY(auto rs, db.Execute("SELECT json FROM processes WHERE id = $1", {snapshot_id}));
  if (rs.empty()) {
    return Fail(Error::NotFound("The frozen process " + snapshot_id + " no longer exists."));
  }
  auto steps = core::ParseJson(rs.front().GetString(0)).value_or(json::array());
  return steps.is_array() ? steps : json::array();
}

Result<std::string> EnvironmentName(db::Database& db, const std::string& id) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT name FROM environments WHERE id = $1", {id}));
  return rs.empty() ? id : rs.front().GetString(0);
}

Result<Frozen> FrozenDeployment(db::Database& db, const Task& t) {
  const std::string id = t.arguments.value("DeploymentId", "");
  CUTTLE_TRY(auto rs, db.Execute("SELECT d.environment_id, d.channel_id, d.json, r.json, r.version "
                                 "FROM deployments d JOIN releases r ON r.id = d.release_id "
                                 "WHERE d.id = $1",
                                 {id}));
  if (rs.empty()) return Fail(Error::NotFound("The deployment " + id + " no longer exists."));
  Frozen f;
  f.environment_id = rs.front().GetString(0);
  f.channel_id = rs.front().GetString(1);
  auto deployment = core::ParseJson(rs.front().GetString(2)).value_or(json::object());
  auto release = core::ParseJson(rs.front().GetString(3)).value_or(json::object());
  f.skip = deployment.value("SkipActions", json::array());
  f.what = "release " + rs.front().GetString(4);
  CUTTLE_TRY(f.steps, SnapshotSteps(db, release.value("ProjectDeploymentProcessSnapshotId", "")));
  CUTTLE_TRY(f.environment_name, EnvironmentName(db, f.environment_id));
  return f;
}

Result<Frozen> FrozenRunbookRun(db::Database& db, const Task& t) {
  const std::string id = t.arguments.value("RunbookRunId", "");
  CUTTLE_TRY(auto rs, db.Execute("SELECT r.environment_id, r.json, s.json, s.name FROM "
                                 "runbook_runs r JOIN runbook_snapshots s ON s.id = "
                                 "r.snapshot_id WHERE r.id = $1",
                                 {id}));
  if (rs.empty()) return Fail(Error::NotFound("The runbook run " + id + " no longer exists."));
  Frozen f;
  f.environment_id = rs.front().GetString(0);
  auto run = core::ParseJson(rs.front().GetString(1)).value_or(json::object());
  auto snapshot = core::ParseJson(rs.front().GetString(2)).value_or(json::object());
  f.skip = run.value("SkipActions", json::array());
  f.what = "runbook snapshot " + rs.front().GetString(3);
  CUTTLE_TRY(f.steps, SnapshotSteps(db, snapshot.value("FrozenRunbookProcessId", "")));
  CUTTLE_TRY(f.environment_name, EnvironmentName(db, f.environment_id));
  return f;
}

TaskOutcome Run(TaskExecution& x, const Result<Frozen>& frozen) {
  if (!frozen) {
    (void)x.log().Append(LogCategory::kError, frozen.error().message());
    return {.state = TaskState::kFailed, .error = frozen.error().message()};
  }
  const int runnable =
      RunnableActions(frozen->steps, frozen->environment_id, frozen->channel_id, frozen->skip);
  if (runnable == 0) {
    (void)x.log().Append(LogCategory::kInfo,
                         fmt::format("The process of {} has no step to run in {}: nothing to do.",
                                     frozen->what, frozen->environment_name));
    return TaskOutcome::Success();
  }
  std::string error = fmt::format(
      "The process of {} has {} step action(s) to run in {}, and this version of Cuttle cannot "
      "execute deployment steps yet: step execution arrives with the deployment engine.",
      frozen->what, runnable, frozen->environment_name);
  (void)x.log().Append(LogCategory::kError, error);
  return {.state = TaskState::kFailed, .error = std::move(error)};
}

std::vector<std::string> NoArgumentChecks(json&) { return {}; }

}  // namespace

int RunnableActions(const json& steps, const std::string& environment_id,
                    const std::string& channel_id, const json& skip_actions) {
  int n = 0;
  if (!steps.is_array()) return 0;
  for (const auto& step : steps) {
    if (!step.is_object()) continue;
    for (const auto& a : step.value("Actions", json::array())) {
      if (!a.is_object() || core::FlagMember(a, "IsDisabled")) continue;
      if (Lists(skip_actions, core::StringMember(a, "Id")) && !core::FlagMember(a, "IsRequired"))
        continue;
      const json envs = a.value("Environments", json::array());
      if (!Empty(envs) && !Lists(envs, environment_id)) continue;
      if (Lists(a.value("ExcludedEnvironments", json::array()), environment_id)) continue;
      const json channels = a.value("Channels", json::array());
      if (!channel_id.empty() && !Empty(channels) && !Lists(channels, channel_id)) continue;
      ++n;
    }
  }
  return n;
}

Result<void> RegisterDeploymentKinds(TaskKinds& kinds, db::Database& db) {
  TaskKind deploy;
  deploy.name = "Deploy";
  deploy.idempotent = false;  // a half-done deployment must not silently run again
  deploy.creatable_by_api = false;
  deploy.validate = NoArgumentChecks;
  deploy.run = [&db](TaskExecution& x) { return Run(x, FrozenDeployment(db, x.task())); };
  CUTTLE_TRY_VOID(kinds.Register(std::move(deploy)));
  TaskKind runbook;
  runbook.name = "RunbookRun";
  runbook.idempotent = false;
  runbook.creatable_by_api = false;
  runbook.validate = NoArgumentChecks;
  runbook.run = [&db](TaskExecution& x) { return Run(x, FrozenRunbookRun(db, x.task())); };
  return kinds.Register(std::move(runbook));
}

}  // namespace cuttle::tasks
