#include "deploy/agent_target.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/json.h"
#include "repo/page.h"
#include "repo/settings.h"

namespace cuttle::deploy {

using engine::LogCategory;

namespace {

constexpr const char* kColumns =
    "id, machine_id, state, epoch, created_at, lease_expires_at, last_seq, delivered_seq, "
    "cancel_requested, result, error, now_ms() AS now, COALESCE((SELECT MAX(seq) FROM "
    "agent_command_output WHERE command_id = agent_commands.id), -1) AS received_seq";

// Chunks read at once; a longer backlog is read in several passes.
constexpr int kChunkBatch = 64;

AgentCommandRow ReadRow(const db::Row& r) {
  AgentCommandRow c;
  c.id = r.GetString("id");
  c.machine_id = r.GetString("machine_id");
  c.state = r.GetString("state");
  c.epoch = r.GetInt("epoch");
  c.created_at = r.GetInt("created_at");
  c.lease_expires_at = r.GetOptionalInt("lease_expires_at");
  c.last_seq = r.GetOptionalInt("last_seq");
  c.delivered_seq = r.GetInt("delivered_seq");
  c.cancel_requested = r.GetBool("cancel_requested");
  c.result = r.GetString("result");
  c.error = r.GetString("error");
  c.now = r.GetInt("now");
  c.received_seq = r.GetInt("received_seq");
  return c;
}

// The lease's fence ($1..$3) and the statement's own parameters after it ($4...).
struct Fence {
  explicit Fence(const tasks::Lease& lease) {
    tasks::AddLeaseHeld(where, lease);
    params = where.params();
  }
  // " AND EXISTS (...)": the task is still this claim's.
  std::string Sql() const { return " AND EXISTS (SELECT 1 FROM server_tasks" + where.Sql() + ")"; }
  repo::Where where;
  db::Params params;
};

Result<std::optional<AgentCommandRow>> FindByUnit(db::Database& db, const std::string& task_id,
                                                  const std::string& unit_key, int64_t attempt) {
  CUTTLE_TRY(auto rs, db.Execute(fmt::format("SELECT {} FROM agent_commands WHERE task_id = $1 AND "
                                             "unit_key = $2 AND attempt = $3",
                                             kColumns),
                                 {task_id, unit_key, attempt}));
  if (rs.empty()) return std::optional<AgentCommandRow>();
  return std::optional(ReadRow(rs.front()));
}

bool HasResult(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "canceled" || state == "unknown";
}

}  // namespace

Result<EnsuredCommand> EnsureCommand(db::Database& db, const crypto::SecretBox& secrets,
                                     const tasks::Lease& lease, const std::string& space_id,
                                     const std::string& machine_id, agentwire::Envelope envelope) {
  CUTTLE_TRY(auto existing, FindByUnit(db, envelope.task_id, envelope.unit_key, envelope.attempt));
  if (existing) return EnsuredCommand{std::move(*existing), false};
  bool inserted = false;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    inserted = false;
    CUTTLE_TRY(envelope.command_id, repo::NextId(tx, "AgentCommands"));
    Fence fence(lease);
    db::Params params = fence.params;
    const size_t first = params.size() + 1;
    for (db::Value v :
         {db::Value(envelope.command_id), db::Value(space_id), db::Value(machine_id),
          db::Value(envelope.task_id), db::Value(envelope.unit_key), db::Value(envelope.attempt),
          db::Value(std::string(agentwire::KindName(envelope.kind))),
          db::Value(secrets.Seal(core::DumpJson(agentwire::EnvelopeToJson(envelope))))}) {
      params.push_back(std::move(v));
    }
    auto p = [&](size_t i) {
      return fmt::format("CAST(${} AS {})", first + i, i == 5 ? "BIGINT" : "TEXT");
    };
    CUTTLE_TRY(
        auto rs,
        tx.Execute(fmt::format("INSERT INTO agent_commands (id, space_id, machine_id, "
                               "task_id, unit_key, attempt, kind, envelope, state, "
                               "created_at) SELECT {}, {}, {}, {}, {}, {}, {}, {}, "
                               "'queued', now_ms() WHERE EXISTS (SELECT 1 FROM "
                               "server_tasks{}) ON CONFLICT (task_id, unit_key, attempt) DO "
                               "NOTHING RETURNING id",
                               p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), fence.where.Sql()),
                   params));
    inserted = !rs.empty();
    return {};
  }));
  if (inserted) (void)db.Notify(agentwire::kAgentChannel, machine_id);
  CUTTLE_TRY(auto row, FindByUnit(db, envelope.task_id, envelope.unit_key, envelope.attempt));
  if (!row) {
    return Fail(Error::LostOwnership(fmt::format("{} is no longer executed by {} (claim {})",
                                                 lease.task_id, lease.node, lease.epoch)));
  }
  return EnsuredCommand{std::move(*row), inserted};
}

Result<std::optional<AgentCommandRow>> ReadCommand(db::Database& db, const std::string& id) {
  CUTTLE_TRY(
      auto rs,
      db.Execute(fmt::format("SELECT {} FROM agent_commands WHERE id = $1", kColumns), {id}));
  if (rs.empty()) return std::optional<AgentCommandRow>();
  return std::optional(ReadRow(rs.front()));
}

// ---- CommandFollower ----------------------------------------------------------------------------

CommandFollower::CommandFollower(db::Database& db, const crypto::SecretBox& secrets,
                                 tasks::Lease lease, AgentCommandRow row, std::string machine_name,
                                 int64_t claim_timeout_ms, LineFn on_line,
                                 std::function<Result<void>()> flush)
    : db_(db),
      secrets_(secrets),
      lease_(std::move(lease)),
      row_(std::move(row)),
      machine_name_(std::move(machine_name)),
      claim_timeout_ms_(claim_timeout_ms),
      on_line_(std::move(on_line)),
      flush_(std::move(flush)) {}

Result<bool> CommandFollower::Held() {
  Fence fence(lease_);
  CUTTLE_TRY(auto rs, db_.Execute("SELECT 1 FROM server_tasks" + fence.where.Sql(), fence.params));
  return !rs.empty();
}

Result<void> CommandFollower::Deliver() {
  for (;;) {
    CUTTLE_TRY(bool more, DeliverBatch());
    if (!more) return {};
  }
}

Result<bool> CommandFollower::DeliverOrLookAgain() {
  auto delivered = Deliver();
  // A transient database failure (a failover): the next Step looks again. Lines written whose
  // delivery did not commit are written once more then, as after a crash.
  if (!delivered && delivered.error().code() == ErrorCode::kUnavailable) return false;
  CUTTLE_TRY_VOID(delivered);
  return true;
}

// One transaction per batch, holding the command's row (PostgreSQL: FOR UPDATE; SQLite: the one
// writer of BEGIN IMMEDIATE) from reading delivered_seq to moving it past the lines written: a
// node adopting the task meanwhile waits here, then starts after them, so no line is written
// twice. Not InTransaction: a retried body would write the lines again.
Result<bool> CommandFollower::DeliverBatch() {
  CUTTLE_TRY(auto tx, db_.Begin());
  CUTTLE_TRY(auto locked,
             tx->Execute(std::string("SELECT delivered_seq FROM agent_commands WHERE id = $1") +
                             (db_.dialect() == db::Dialect::kPostgres ? " FOR UPDATE" : ""),
                         {row_.id}));
  if (locked.empty()) return false;  // deleted: Step's next read says so
  const int64_t from = locked.front().GetInt("delivered_seq");
  // Checked under the row's lock: an adoption before it is seen here; an adopter claiming after
  // it gets the row only once this delivery has committed, and starts after its lines.
  Fence fence(lease_);
  CUTTLE_TRY(auto held,
             tx->Execute("SELECT 1 FROM server_tasks" + fence.where.Sql(), fence.params));
  if (held.empty()) {
    tx->Rollback();
    return Fail(Error::LostOwnership(
        fmt::format("{}: the log of {} is no longer delivered by {} (claim {})", lease_.task_id,
                    row_.id, lease_.node, lease_.epoch)));
  }
  row_.delivered_seq = from;
  CUTTLE_TRY(auto rs, tx->Execute(fmt::format("SELECT seq, data FROM agent_command_output WHERE "
                                              "command_id = $1 AND seq > $2 ORDER BY seq LIMIT {}",
                                              kChunkBatch),
                                  {row_.id, from}));
  int64_t next = from + 1;
  for (const auto& r : rs.rows) {
    if (r.GetInt("seq") != next) break;  // a gap: the missing chunk comes first
    auto lines = agentwire::DecodeChunk(r.Text(1));
    if (!lines) {
      if (on_line_) {
        on_line_(LogCategory::kWarning,
                 fmt::format("The agent's log chunk {} could not be read: {}", next,
                             lines.error().message()));
      }
    } else if (on_line_) {
      for (const auto& l : *lines) on_line_(l.category, l.text);
    }
    ++next;
  }
  const int64_t delivered = next - 1;
  if (delivered == from) {
    tx->Rollback();
    return false;
  }
  // The lines are written out before the row says they are: a node dying between the two
  // repeats them on adoption instead of losing them.
  if (flush_) CUTTLE_TRY_VOID(flush_());
  // Not fenced on the lease: the lines are written, so the row must say so even if the task was
  // adopted since the check above (the adopter is waiting for this row). Whether it was is
  // returned beside, so that this node stops at once.
  db::Params params = fence.params;
  params.push_back(delivered);
  params.push_back(row_.id);
  params.push_back(from);
  CUTTLE_TRY(auto moved, tx->Execute("UPDATE agent_commands SET delivered_seq = $4 WHERE id = $5 "
                                     "AND delivered_seq = $6 RETURNING EXISTS (SELECT 1 FROM "
                                     "server_tasks" +
                                         fence.where.Sql() + ") AS held",
                                     params));
  if (moved.empty()) {
    // Cannot happen under the lock; if it does, delivered_seq is not this node's to move.
    tx->Rollback();
    return Fail(Error::LostOwnership(fmt::format(
        "{}: another node delivered the log of {} meanwhile", lease_.task_id, row_.id)));
  }
  const bool still_held = moved.front().GetBool("held");
  CUTTLE_TRY_VOID(tx->Commit());
  row_.delivered_seq = delivered;
  if (!still_held) {
    return Fail(Error::LostOwnership(
        fmt::format("{}: the log of {} is no longer delivered by {} (claim {})", lease_.task_id,
                    row_.id, lease_.node, lease_.epoch)));
  }
  return static_cast<int>(rs.rows.size()) == kChunkBatch;
}

Result<std::optional<CommandEnd>> CommandFollower::Step() {
  CUTTLE_TRY(auto read, ReadCommand(db_, row_.id));
  if (!read) {
    CommandEnd end;
    end.kind = CommandEnd::Kind::kCanceled;
    end.message =
        fmt::format("The agent's command {} for {} no longer exists.", row_.id, machine_name_);
    return std::optional(end);
  }
  if (read->delivered_seq != row_.delivered_seq) {
    // Another node delivered since this one last looked: the node this one adopted the task from
    // (a delivery it began before the adoption ends first), or the node that adopted it from
    // this one. The lease tells which.
    CUTTLE_TRY(bool held, Held());
    if (!held) {
      return Fail(Error::LostOwnership(
          fmt::format("{}: another node delivers the log of {}", lease_.task_id, row_.id)));
    }
  }
  row_ = std::move(*read);
  // A wake-up for another command's chunk costs this one read.
  if (row_.received_seq > row_.delivered_seq) {
    CUTTLE_TRY(bool done, DeliverOrLookAgain());
    if (!done) return std::optional<CommandEnd>();
  }
  const std::string& state = row_.state;

  if (HasResult(state) && !row_.result.empty()) {
    // The server records a result only once every chunk up to last_seq is there.
    if (row_.last_seq && row_.delivered_seq < *row_.last_seq) return std::optional<CommandEnd>();
    CommandEnd end;
    auto opened = secrets_.Open(row_.result);
    auto parsed = opened ? core::ParseJson(*opened) : Result<nlohmann::json>(Fail(opened.error()));
    auto result = parsed ? agentwire::ResultFromJson(*parsed)
                         : Result<agentwire::CommandResult>(Fail(parsed.error()));
    if (!result) {
      end.result.state = agentwire::ResultState::kFailed;
      end.result.outcome.exit_code = 1;
      end.result.outcome.result_message =
          fmt::format("The result the agent on {} reported could not be read: {}", machine_name_,
                      result.error().message());
    } else {
      end.result = std::move(*result);
    }
    return std::optional(end);
  }
  if (state == "canceled" || state == "succeeded" || state == "failed" || state == "unknown") {
    CommandEnd end;  // final without a result: canceled before it started
    end.kind = CommandEnd::Kind::kCanceled;
    end.message =
        row_.error.empty()
            ? fmt::format("The step was canceled before the agent on {} started it.", machine_name_)
            : row_.error;
    return std::optional(end);
  }
  if (state == "lost" || state == "expired") {
    CommandEnd end;
    end.kind = state == "lost" ? CommandEnd::Kind::kLost : CommandEnd::Kind::kExpired;
    end.message = row_.error;
    return std::optional(end);
  }

  Fence fence(lease_);
  db::Params params = fence.params;
  if (state == "running" && row_.lease_expires_at && *row_.lease_expires_at < row_.now) {
    const std::string message = fmt::format(
        "The agent on {} stopped answering; its lease expired {} s after its last report, so the "
        "step's outcome is unknown (it was not run again).",
        machine_name_, agentwire::kLeaseSeconds);
    params.push_back(row_.id);
    params.push_back(row_.epoch);
    params.push_back(message);
    CUTTLE_TRY(auto rs, db_.Execute("UPDATE agent_commands SET state = 'lost', finished_at = "
                                    "now_ms(), error = $6 WHERE id = $4 AND state = 'running' AND "
                                    "epoch = $5 AND lease_expires_at < now_ms()" +
                                        fence.Sql() + " RETURNING id",
                                    params));
    if (rs.empty()) return std::optional<CommandEnd>();  // it answered meanwhile: look again
    // A chunk accepted just before the CAS (none can come after it); on a transient failure the
    // next Step delivers it and ends on the state.
    CUTTLE_TRY(bool done, DeliverOrLookAgain());
    if (!done) return std::optional<CommandEnd>();
    CommandEnd end;
    end.kind = CommandEnd::Kind::kLost;
    end.message = message;
    return std::optional(end);
  }
  if ((state == "queued" || state == "offered") && row_.now - row_.created_at > claim_timeout_ms_) {
    const std::string message = fmt::format("The agent on {} did not pick up the step within {} s.",
                                            machine_name_, claim_timeout_ms_ / 1000);
    params.push_back(row_.id);
    params.push_back(message);
    params.push_back(claim_timeout_ms_);
    CUTTLE_TRY(auto rs, db_.Execute("UPDATE agent_commands SET state = 'expired', finished_at = "
                                    "now_ms(), error = $5 WHERE id = $4 AND state IN ('queued', "
                                    "'offered') AND created_at < now_ms() - $6" +
                                        fence.Sql() + " RETURNING id",
                                    params));
    if (rs.empty()) return std::optional<CommandEnd>();  // claimed meanwhile
    CommandEnd end;
    end.kind = CommandEnd::Kind::kExpired;
    end.message = message;
    return std::optional(end);
  }
  return std::optional<CommandEnd>();
}

Result<void> CommandFollower::RequestCancel() {
  cancel_sent_ = true;
  CUTTLE_TRY_VOID(db_.Execute(
      "UPDATE agent_commands SET state = 'canceled', finished_at = now_ms(), error = $2 WHERE id "
      "= $1 AND state IN ('queued', 'offered')",
      {row_.id, std::string("The step was canceled before the agent started it.")}));
  CUTTLE_TRY_VOID(db_.Execute(
      "UPDATE agent_commands SET cancel_requested = TRUE WHERE id = $1 AND state = 'running'",
      {row_.id}));
  (void)db_.Notify(agentwire::kAgentChannel, row_.machine_id);
  return {};
}

engine::StepOutcome OutcomeOf(const CommandEnd& end, const std::string& machine_name,
                              bool cancel_requested) {
  engine::StepOutcome o;
  switch (end.kind) {
    case CommandEnd::Kind::kLost:
    case CommandEnd::Kind::kExpired:
      o.exit_code = -1;
      o.killed_reason = end.message;
      return o;
    case CommandEnd::Kind::kCanceled:
      o.exit_code = -1;
      o.killed_reason = cancel_requested ? "canceled" : end.message;
      return o;
    case CommandEnd::Kind::kResult:
      break;
  }
  const agentwire::CommandResult& r = end.result;
  switch (r.state) {
    case agentwire::ResultState::kSucceeded:
      return r.outcome;
    case agentwire::ResultState::kFailed:
      o = r.outcome;
      if (o.exit_code == 0 && o.killed_reason.empty()) {
        // Failed without an exit code (the package convention, a download): exit code 1 and why.
        o.exit_code = 1;
        if (o.result_message.empty()) {
          o.result_message = !r.message.empty()
                                 ? r.message
                                 : fmt::format("The step failed on the agent on {}.", machine_name);
        }
      } else if (o.result_message.empty()) {
        o.result_message = r.message;
      }
      return o;
    case agentwire::ResultState::kCanceled:
      o = r.outcome;
      o.killed_reason =
          cancel_requested ? "canceled"
          : !r.message.empty()
              ? r.message
              : fmt::format("The step was canceled on the agent on {}.", machine_name);
      return o;
    case agentwire::ResultState::kUnknown:
      o.exit_code = -1;
      o.killed_reason =
          fmt::format("The agent on {} lost track of the step and did not run it again{}",
                      machine_name, r.message.empty() ? "." : fmt::format(": {}", r.message));
      return o;
  }
  return o;
}

// ---- AgentTarget --------------------------------------------------------------------------------

AgentTarget::AgentTarget(tasks::TaskExecution& execution, AgentOptions options,
                         std::string machine_id, std::string machine_name, std::string unit_key,
                         int64_t attempt)
    : execution_(execution),
      options_(std::move(options)),
      machine_id_(std::move(machine_id)),
      machine_name_(std::move(machine_name)),
      unit_key_(std::move(unit_key)),
      attempt_(attempt) {}

Result<std::string> AgentTarget::Fetch(const PackageRef& package) {
  if (options_.packages == nullptr) {
    return Fail(Error::InvalidArgument("This node has no built-in package feed."));
  }
  CUTTLE_TRY(auto found,
             options_.packages->Find(package.space_id, package.package_id, package.version));
  if (!found) {
    return Fail(
        Error::NotFound(fmt::format("The package {} version {} is not in the built-in feed.",
                                    package.package_id, package.version)));
  }
  agentwire::PackageInfo info;
  info.space_id = found->space_id;
  info.package_id = found->package_id;
  info.version = found->version;
  info.sha256 = found->sha256;
  info.size = static_cast<uint64_t>(std::max<int64_t>(found->size, 0));
  info.file_name = found->file_name;
  package_ = info;
  return info.file_name;
}

Result<engine::StepOutcome> AgentTarget::Run(const StepRequest& request,
                                             const engine::StepCallbacks& callbacks) {
  if (options_.db == nullptr || options_.secrets == nullptr) {
    return Fail(Error::InvalidArgument("Agent targets need a database and a secret box."));
  }
  db::Database& db = *options_.db;
  agentwire::Envelope e;
  e.kind = request.kind == StepRequest::Kind::kPackage ? agentwire::CommandKind::kPackage
                                                       : agentwire::CommandKind::kScript;
  e.task_id = execution_.task().id;
  e.unit_key = unit_key_;
  e.attempt = attempt_;
  e.syntax = request.syntax;
  e.script_body = request.script_body;
  e.variables = request.variables;
  e.env = request.env;
  e.timeout_seconds = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.script_timeout).count());
  if (e.kind == agentwire::CommandKind::kPackage) {
    if (!package_) {
      return Fail(Error::InvalidArgument("The package step's package was not resolved."));
    }
    e.package = package_;
  }
  CUTTLE_TRY(auto ensured, EnsureCommand(db, *options_.secrets, execution_.lease(),
                                         execution_.task().space_id, machine_id_, std::move(e)));
  auto on_line = [&](LogCategory c, std::string_view text) {
    if (callbacks.on_line) callbacks.on_line(c, text);
  };
  if (ensured.created) {
    on_line(LogCategory::kVerbose,
            fmt::format("Sent to the agent on {} as {}.", machine_name_, ensured.row.id));
  } else {
    on_line(LogCategory::kInfo,
            fmt::format("Node {} follows the agent's command {} on {} again (state {}).",
                        execution_.node_name(), ensured.row.id, machine_name_, ensured.row.state));
  }
  CommandFollower follower(db, *options_.secrets, execution_.lease(), ensured.row, machine_name_,
                           options_.claim_timeout_ms, on_line, [&]() -> Result<void> {
                             // Both logs the lines went to (the task's and the unit's).
                             if (callbacks.flush) return callbacks.flush();
                             return execution_.log().Flush();
                           });
  using Clock = std::chrono::steady_clock;
  const auto wait =
      std::min<std::chrono::milliseconds>(options_.poll, std::chrono::milliseconds(100));
  auto next_read = Clock::now();
  std::optional<Clock::time_point> cancel_deadline;
  for (;;) {
    const std::string why = callbacks.should_stop ? callbacks.should_stop() : "";
    if (!why.empty() && why != "canceled") {
      // Lost, fenced, shutting down: the command stays as it is, for the node that adopts the task.
      engine::StepOutcome o;
      o.exit_code = -1;
      o.killed_reason = why;
      return o;
    }
    if (why == "canceled" && !cancel_deadline) {
      if (auto r = follower.RequestCancel(); !r) {
        on_line(LogCategory::kWarning,
                "The agent could not be asked to cancel the step: " + r.error().message());
      }
      cancel_deadline = Clock::now() + options_.cancel_wait;
      next_read = Clock::now();
    }
    if (Clock::now() >= next_read) {
      auto end = follower.Step();
      if (!end) {
        if (end.error().code() != ErrorCode::kLostOwnership) return Fail(end.error());
        engine::StepOutcome o;
        o.exit_code = -1;
        o.killed_reason = "lost";
        return o;
      }
      if (*end) {
        engine::StepOutcome o = OutcomeOf(**end, machine_name_, follower.cancel_requested());
        // The agent uploaded them before its result (docs/agent.md, "PUT /commands/{id}/
        // artifacts/{n}"): they are the task's already, nothing is left to collect here.
        o.artifacts.clear();
        return o;
      }
      next_read = Clock::now() + options_.poll;
    }
    if (cancel_deadline && Clock::now() >= *cancel_deadline) {
      on_line(LogCategory::kWarning,
              fmt::format(
                  "The agent on {} did not confirm the cancel within {} s.", machine_name_,
                  std::chrono::duration_cast<std::chrono::seconds>(options_.cancel_wait).count()));
      engine::StepOutcome o;
      o.exit_code = -1;
      o.killed_reason = "canceled";
      return o;
    }
    if (db.WaitForNotification(agentwire::kCommandChannel, wait)) next_read = Clock::now();
  }
}

}  // namespace cuttle::deploy
