#include "deploy/health_kind.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "agentwire/wire.h"
#include "core/json.h"
#include "core/strings.h"
#include "deploy/agent_target.h"
#include "model/machine.h"
#include "repo/machines.h"
#include "repo/page.h"

namespace cuttle::deploy {

using engine::LogCategory;
using nlohmann::json;

namespace {

std::vector<std::string> MachineIdsOf(const json& arguments) {
  std::vector<std::string> out;
  const json* ids = core::FindKeyIgnoreCase(arguments, "MachineIds");
  if (ids == nullptr) return out;
  if (ids->is_string()) {
    for (auto& id : core::Split(ids->get<std::string>(), ',')) {
      std::string trimmed(core::Trim(id));
      if (!trimmed.empty()) out.push_back(std::move(trimmed));
    }
  } else if (ids->is_array()) {
    for (const auto& id : *ids) {
      if (id.is_string() && !id.get<std::string>().empty()) out.push_back(id.get<std::string>());
    }
  }
  return out;
}

std::vector<std::string> Validate(json& arguments) {
  std::vector<std::string> problems;
  if (!arguments.is_object()) return problems;
  const json* env = core::FindKeyIgnoreCase(arguments, "EnvironmentId");
  if (env != nullptr && !env->is_null() && !env->is_string()) {
    problems.push_back("Arguments.EnvironmentId must be an environment's id.");
  }
  const json* ids = core::FindKeyIgnoreCase(arguments, "MachineIds");
  if (ids != nullptr && !ids->is_null() && !ids->is_string() && !ids->is_array()) {
    problems.push_back("Arguments.MachineIds must be a list of deployment target ids.");
  }
  if (!problems.empty()) return problems;
  // Stored under the names the run function reads, whatever casing the client used.
  std::string environment = env != nullptr && env->is_string() ? env->get<std::string>() : "";
  std::vector<std::string> machines = MachineIdsOf(arguments);
  if (!environment.empty()) arguments["EnvironmentId"] = environment;
  if (ids != nullptr) arguments["MachineIds"] = machines;
  return problems;
}

// One target being checked.
struct Check {
  repo::MachineRow machine;
  std::unique_ptr<CommandFollower> follower;
  std::optional<std::string> status;  // set once decided
  std::string summary;
  json facts;
};

// Writes the target's health, fenced on the task's lease.
Result<void> WriteHealth(db::Database& db, const tasks::Lease& lease, const Check& c) {
  return db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto rs,
               tx.Execute(std::string("SELECT json FROM machines WHERE id = $1") +
                              (db.dialect() == db::Dialect::kPostgres ? " FOR UPDATE" : ""),
                          {c.machine.id}));
    if (rs.empty()) return {};  // deleted meanwhile
    json doc = core::ParseJson(rs.front().GetString("json")).value_or(json::object());
    if (!doc.is_object()) doc = json::object();
    doc["StatusSummary"] = c.summary;
    doc[model::kStatusSummaryOf] = *c.status;
    // What the agent says of its machine, where Octopus's machine JSON shows it.
    for (const char* key : {"OperatingSystem", "Architecture"}) {
      if (auto it = c.facts.find(key); it != c.facts.end() && it->is_string()) doc[key] = *it;
    }
    repo::Where fence;
    tasks::AddLeaseHeld(fence, lease);
    db::Params params = fence.params();
    params.push_back(*c.status);
    params.push_back(core::DumpJson(doc));
    params.push_back(c.machine.id);
    CUTTLE_TRY(auto updated,
               tx.Execute("UPDATE machines SET health_status = $4, json = $5 WHERE id = $6 AND "
                          "EXISTS (SELECT 1 FROM server_tasks" +
                              fence.Sql() + ") RETURNING id",
                          params));
    if (updated.empty()) {
      return Fail(Error::LostOwnership(fmt::format("{} is no longer executed by {} (claim {})",
                                                   lease.task_id, lease.node, lease.epoch)));
    }
    if (c.facts.is_object() && !c.facts.empty()) {
      CUTTLE_TRY_VOID(tx.Execute("UPDATE agents SET facts = $1 WHERE machine_id = $2",
                                 {core::DumpJson(c.facts), c.machine.id}));
    }
    return {};
  });
}

void Decide(Check& c, const CommandEnd& end, int64_t timeout_s) {
  const std::string& name = c.machine.name;
  switch (end.kind) {
    case CommandEnd::Kind::kLost:
    case CommandEnd::Kind::kExpired:
      c.status = "Unavailable";
      c.summary = end.kind == CommandEnd::Kind::kExpired
                      ? fmt::format("The agent on {} did not answer its health check within {} s.",
                                    name, timeout_s)
                      : end.message;
      return;
    case CommandEnd::Kind::kCanceled:
      c.status = "Unavailable";
      c.summary = end.message;
      return;
    case CommandEnd::Kind::kResult:
      break;
  }
  const agentwire::CommandResult& r = end.result;
  c.facts = r.facts;
  switch (r.state) {
    case agentwire::ResultState::kSucceeded:
      c.status = "Healthy";
      c.summary = r.message.empty()
                      ? fmt::format("The agent on {} answered its health check.", name)
                      : r.message;
      return;
    case agentwire::ResultState::kFailed: {
      c.status = "Unhealthy";
      std::string why = !r.message.empty()                  ? r.message
                        : !r.outcome.result_message.empty() ? r.outcome.result_message
                        : !r.outcome.killed_reason.empty()
                            ? r.outcome.killed_reason
                            : fmt::format("exit code {}", r.outcome.exit_code);
      c.summary = fmt::format("The health check of {} failed: {}", name, why);
      return;
    }
    case agentwire::ResultState::kUnknown:
      c.status = "Unhealthy";
      c.summary = fmt::format("The agent on {} lost track of its health check{}", name,
                              r.message.empty() ? "." : ": " + r.message);
      return;
    case agentwire::ResultState::kCanceled:
      c.status = "Unavailable";
      c.summary = fmt::format("The health check of {} was canceled on the agent.", name);
      return;
  }
}

}  // namespace

tasks::TaskOutcome RunHealthCheck(tasks::TaskExecution& x, const HealthOptions& o) {
  db::Database& db = *o.db;
  const tasks::Task& task = x.task();
  auto log = [&](LogCategory c, std::string_view text) { (void)x.log().Append(c, text); };

  repo::MachineFilter f;
  f.space_id = task.space_id.empty() ? "Spaces-1" : task.space_id;
  const std::string environment = core::StringMember(task.arguments, "EnvironmentId");
  if (!environment.empty()) f.environment_ids = std::vector<std::string>{environment};
  repo::PageQuery q;
  q.take = INT64_MAX;
  const std::vector<std::string> ids = MachineIdsOf(task.arguments);
  if (!ids.empty()) q.ids = ids;
  auto machines = repo::ListAllMachines(db, f, q);
  if (!machines) {
    log(LogCategory::kError,
        "The deployment targets could not be read: " + machines.error().message());
    return {.state = tasks::TaskState::kFailed, .error = machines.error().message()};
  }

  std::vector<Check> checks;
  for (auto& m : *machines) {
    if (m.is_disabled) {
      log(LogCategory::kInfo, fmt::format("{} is disabled; it is not checked.", m.name));
      continue;
    }
    checks.push_back({std::move(m), nullptr, std::nullopt, "", json::object()});
  }
  if (checks.empty()) {
    log(LogCategory::kInfo, "There is no enabled deployment target to check.");
    return tasks::TaskOutcome::Success();
  }
  log(LogCategory::kInfo,
      fmt::format("Checking the health of {} deployment target(s).", checks.size()));

  bool lost = false;
  auto finish = [&](Check& c) {
    if (lost) return;
    auto written = WriteHealth(db, x.lease(), c);
    if (!written) {
      lost = true;
      return;
    }
    const std::string line = fmt::format("{}: {}", c.machine.name, *c.status);
    if (*c.status == "Healthy") {
      log(LogCategory::kInfo, line);
    } else {
      log(*c.status == "Unhealthy" ? LogCategory::kError : LogCategory::kWarning,
          line + ". " + c.summary);
    }
  };

  for (auto& c : checks) {
    if (core::EqualsIgnoreCase(c.machine.communication_style, "TentacleActive")) {
      agentwire::Envelope e;
      e.kind = agentwire::CommandKind::kHealth;
      e.task_id = task.id;
      e.unit_key = "health/" + c.machine.id;
      e.attempt = 1;
      e.timeout_seconds = std::max<int64_t>(1, o.answer_timeout_ms / 1000);
      e.env["OCTOPUS_TASK_ID"] = task.id;
      auto ensured = EnsureCommand(db, *o.secrets, x.lease(), c.machine.space_id, c.machine.id, e);
      if (!ensured) {
        if (ensured.error().code() == ErrorCode::kLostOwnership)
          return tasks::TaskOutcome::HandedOff();
        log(LogCategory::kError,
            "The health check could not be sent: " + ensured.error().message());
        return {.state = tasks::TaskState::kFailed, .error = ensured.error().message()};
      }
      const std::string name = c.machine.name;
      c.follower = std::make_unique<CommandFollower>(
          db, *o.secrets, x.lease(), ensured->row, name, o.answer_timeout_ms,
          [&log, name](LogCategory cat, std::string_view text) {
            log(cat, fmt::format("{}: {}", name, text));
          },
          [&x] { return x.log().Flush(); });
    } else {
      c.status = "Healthy";
      c.summary =
          "This deployment target has no agent to check: its steps run on the built-in "
          "worker.";
      finish(c);
    }
  }

  using Clock = std::chrono::steady_clock;
  auto next_read = Clock::now();
  const auto wait = std::min<std::chrono::milliseconds>(o.poll, std::chrono::milliseconds(100));
  for (;;) {
    if (lost) return tasks::TaskOutcome::HandedOff();
    const std::string why = x.StopReason();
    if (why == "canceled") {
      for (auto& c : checks) {
        if (c.follower && !c.status) (void)c.follower->RequestCancel();
      }
      log(LogCategory::kWarning, "The health check was canceled.");
      return {.state = tasks::TaskState::kCanceled, .error = "The task was canceled."};
    }
    if (!why.empty()) return tasks::TaskOutcome::HandedOff();
    bool pending = false;
    if (Clock::now() >= next_read) {
      for (auto& c : checks) {
        if (!c.follower || c.status) continue;
        auto end = c.follower->Step();
        if (!end) {
          if (end.error().code() == ErrorCode::kLostOwnership)
            return tasks::TaskOutcome::HandedOff();
          log(LogCategory::kError,
              "The health check could not be followed: " + end.error().message());
          return {.state = tasks::TaskState::kFailed, .error = end.error().message()};
        }
        if (*end) {
          Decide(c, **end, o.answer_timeout_ms / 1000);
          finish(c);
          continue;
        }
        const AgentCommandRow& row = c.follower->row();
        if (row.state == "running" && row.now - row.created_at > o.answer_timeout_ms) {
          (void)c.follower->RequestCancel();
          c.status = "Unavailable";
          c.summary = fmt::format("The agent on {} did not answer its health check within {} s.",
                                  c.machine.name, o.answer_timeout_ms / 1000);
          finish(c);
          continue;
        }
        pending = true;
      }
      next_read = Clock::now() + o.poll;
    } else {
      for (const auto& c : checks) pending = pending || (c.follower && !c.status);
    }
    if (!pending) break;
    if (db.WaitForNotification(agentwire::kCommandChannel, wait)) next_read = Clock::now();
  }
  if (lost) return tasks::TaskOutcome::HandedOff();

  std::vector<std::string> unhealthy;
  for (const auto& c : checks) {
    if (c.status == "Unhealthy") unhealthy.push_back(c.machine.name);
  }
  if (!unhealthy.empty()) {
    return {.state = tasks::TaskState::kFailed,
            .error = fmt::format("The health check found {} unhealthy deployment target(s): {}.",
                                 unhealthy.size(), fmt::join(unhealthy, ", "))};
  }
  return tasks::TaskOutcome::Success();
}

Result<void> RegisterHealthKind(tasks::TaskKinds& kinds, HealthOptions options) {
  if (options.db == nullptr || options.secrets == nullptr) {
    return Fail(Error::InvalidArgument("The Health kind needs a database and a secret box."));
  }
  auto shared = std::make_shared<const HealthOptions>(options);
  tasks::TaskKind kind;
  kind.name = "Health";
  // Resumable: the commands are keyed by the task, so the next owner follows them.
  kind.idempotent = true;
  kind.creatable_by_api = true;
  kind.default_description = "Check deployment target health";
  kind.validate = Validate;
  kind.run = [shared](tasks::TaskExecution& x) { return RunHealthCheck(x, *shared); };
  return kinds.Register(std::move(kind));
}

}  // namespace cuttle::deploy
