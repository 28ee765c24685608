// AgentTarget: issue 11's Target for machines whose communication style is TentacleActive (a
// polling cuttle-agent, docs/agent.md). The step does not run on this node: Run() writes a command
// row (agent_commands) that whichever node holds the agent's poll hands to the agent, then follows
// the row — the agent's log chunks go to the task's log in sequence order, and its result becomes
// the step's outcome. Everything lives in the shared database, so a node that adopts the
// deployment after the owner died attaches to the same command (task, unit key, attempt) and the
// log continues where the owner's delivery stopped (delivered_seq).
//
// The pieces under AgentTarget (EnsureCommand, CommandFollower) serve the Health task kind too.
// Every write here is fenced on the task's lease (tasks::AddLeaseHeld), so a node that lost the
// task delivers nothing more — except the one move of delivered_seq past lines already written
// (CommandFollower). Times are the database clock's (now_ms()).
//
// Thread-safety: an AgentTarget and a CommandFollower are used by one thread at a time; the free
// functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agentwire/wire.h"
#include "core/error.h"
#include "crypto/secret_box.h"
#include "db/database.h"
#include "deploy/target.h"
#include "feed/package_store.h"
#include "tasks/task_kinds.h"

namespace cuttle::deploy {

struct AgentOptions {
  db::Database* db = nullptr;                  // required
  const crypto::SecretBox* secrets = nullptr;  // required: seals envelopes, opens results
  feed::PackageStore* packages = nullptr;      // resolves package steps' files (not copied)
  std::chrono::milliseconds script_timeout{3'600'000};  // the envelope's TimeoutSeconds
  // The command is re-read at least this often (besides every NOTIFY cuttle_agent_cmd).
  std::chrono::milliseconds poll{1000};
  // After asking the agent to cancel, how long the step waits for its result.
  std::chrono::milliseconds cancel_wait{30'000};
  // A queued or offered command not claimed by then (database time since its creation) expires.
  int64_t claim_timeout_ms = int64_t{agentwire::kClaimTimeoutSeconds} * 1000;
};

// A command as its owner reads it.
struct AgentCommandRow {
  std::string id;
  std::string machine_id;
  std::string state;  // queued offered running succeeded failed canceled unknown lost expired
  int64_t epoch = 0;
  int64_t created_at = 0;
  std::optional<int64_t> lease_expires_at;
  std::optional<int64_t> last_seq;
  int64_t delivered_seq = -1;
  bool cancel_requested = false;
  std::string result;  // sealed, "" until recorded
  std::string error;
  int64_t now = 0;            // the database clock when read
  int64_t received_seq = -1;  // the highest chunk stored (there may be gaps below it)
};

// The command of (envelope.task_id, unit_key, attempt): created queued (envelope sealed; its
// CommandId assigned here, "AgentCommands-N") and announced with NOTIFY cuttle_agent, or — when it
// exists already (an adopted deployment) — found. Fenced on `lease`: kLostOwnership when the task
// is no longer this claim's. `created` tells which.
struct EnsuredCommand {
  AgentCommandRow row;
  bool created = false;
};
Result<EnsuredCommand> EnsureCommand(db::Database& db, const crypto::SecretBox& secrets,
                                     const tasks::Lease& lease, const std::string& space_id,
                                     const std::string& machine_id, agentwire::Envelope envelope);

Result<std::optional<AgentCommandRow>> ReadCommand(db::Database& db, const std::string& id);

// How a followed command ended.
struct CommandEnd {
  enum class Kind {
    kResult,    // the agent reported `result`
    kLost,      // its lease ran out while running
    kExpired,   // nobody claimed it in time
    kCanceled,  // canceled before the agent started it (no result)
  };
  Kind kind = Kind::kResult;
  agentwire::CommandResult result;
  std::string message;  // kLost, kExpired, kCanceled: what the step's error says
};

// Follows one command for its owner. Step() looks once: delivers the chunks after delivered_seq
// that are there in sequence (a gap waits for the missing chunk) and judges the command: lost
// when running past its lease, expired when unclaimed past the claim timeout (each a CAS on the
// state). It returns the end once the command is final and every chunk up to last_seq is
// delivered.
//
// A delivery is one transaction per batch holding the command's row (PostgreSQL FOR UPDATE,
// SQLite BEGIN IMMEDIATE): delivered_seq read under the lock, the lease checked there (lost:
// nothing written), the lines written and flushed, delivered_seq moved by a CAS the lease does
// not fence (the lines are written), commit. An owner that lost the task without knowing it and
// the node adopting it therefore never both write a chunk (docs/engine.md, "Targets").
class CommandFollower {
 public:
  using LineFn = std::function<void(engine::LogCategory, std::string_view)>;
  // `flush` writes out every log the lines went to before delivered_seq moves past them (a node
  // dying in between repeats those lines on adoption rather than losing them); when it fails,
  // delivered_seq stays and Step fails with its error.
  CommandFollower(db::Database& db, const crypto::SecretBox& secrets, tasks::Lease lease,
                  AgentCommandRow row, std::string machine_name, int64_t claim_timeout_ms,
                  LineFn on_line, std::function<Result<void>()> flush);

  // kLostOwnership when the lease no longer holds (also right after delivering lines, when the
  // task was adopted while this node wrote them).
  Result<std::optional<CommandEnd>> Step();
  // queued/offered → canceled at once; running → cancel_requested (the agent hears it on its
  // next poll, log upload or heartbeat). NOTIFY cuttle_agent.
  Result<void> RequestCancel();

  const AgentCommandRow& row() const { return row_; }
  bool cancel_requested() const { return cancel_sent_; }

 private:
  Result<void> Deliver();
  // false after a transient database failure: nothing is lost, the next Step looks again.
  Result<bool> DeliverOrLookAgain();
  // One batch; true when it was full (more may follow).
  Result<bool> DeliverBatch();
  // Whether the lease still holds.
  Result<bool> Held();
  Result<std::optional<CommandEnd>> Judge();

  db::Database& db_;
  const crypto::SecretBox& secrets_;
  tasks::Lease lease_;
  AgentCommandRow row_;
  std::string machine_name_;
  int64_t claim_timeout_ms_;
  LineFn on_line_;
  std::function<Result<void>()> flush_;
  bool cancel_sent_ = false;
};

// A command's end as a step's outcome: the agent's outcome for succeeded/failed (a failure
// without an exit code is exit code 1); killed_reason "canceled" for a cancel this node asked
// for; otherwise killed_reason says why the step failed (lost, expired, unknown, canceled on the
// agent's side).
engine::StepOutcome OutcomeOf(const CommandEnd& end, const std::string& machine_name,
                              bool cancel_requested);

class AgentTarget : public Target {
 public:
  // One unit: the command is (execution's task, unit_key, attempt) on `machine_id`.
  AgentTarget(tasks::TaskExecution& execution, AgentOptions options, std::string machine_id,
              std::string machine_name, std::string unit_key, int64_t attempt);

  Result<engine::StepOutcome> Run(const StepRequest& request,
                                  const engine::StepCallbacks& callbacks) override;
  // Resolves the package in the built-in feed (the agent downloads it itself); returns its file
  // name. The file is not copied.
  Result<std::string> Fetch(const PackageRef& package) override;

 private:
  tasks::TaskExecution& execution_;
  AgentOptions options_;
  std::string machine_id_;
  std::string machine_name_;
  std::string unit_key_;
  int64_t attempt_;
  std::optional<agentwire::PackageInfo> package_;
};

}  // namespace cuttle::deploy
