// TaskQueue: the shared queue of server tasks in the database (DESIGN.md §3.2) — enqueue, atomic
// claim, fenced state changes, cancellation, the dead-node policy and queries for the API.
//
// Fencing: every write an executing node makes is conditional on the Lease it got from Claim
// (its node name, the claim epoch, and the task still being active). A write that matches no row
// returns kLostOwnership: the caller must stop the work at once. That condition is written once,
// AddLeaseHeld, and every ownership check — fenced writes here and in artifacts.cc, and the
// runner's own checks through Held() — goes through it.
//
// Thread-safe (stateless over the Database).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::tasks {

enum class TaskState { kQueued, kExecuting, kCancelling, kSuccess, kFailed, kCanceled, kTimedOut };
const char* StateName(TaskState s);
std::optional<TaskState> ParseState(std::string_view name);  // case-insensitive
bool IsFinal(TaskState s);

struct Task {
  std::string id;
  int64_t seq = 0;
  std::string space_id;
  std::string name;
  std::string description;
  nlohmann::json arguments = nlohmann::json::object();
  TaskState state = TaskState::kQueued;
  int64_t queue_time = 0;
  std::optional<int64_t> queue_time_expiry;
  std::optional<int64_t> start_time;
  std::optional<int64_t> completed_time;
  std::optional<int64_t> last_updated_time;
  std::string server_node;
  int64_t claim_epoch = 0;
  std::string concurrency_tag;
  std::string error_message;
  bool has_warnings_or_errors = false;
  bool idempotent = false;
  bool work_started = false;
  std::string rerun_of;
  // Waiting for an interruption's answer (Queued, claimable by no node until Unpark): shown as
  // Executing with HasPendingInterruptions.
  bool parked = false;
};

struct NewTask {
  std::string space_id = "Spaces-1";
  std::string name;
  std::string description;
  nlohmann::json arguments = nlohmann::json::object();
  std::optional<int64_t> queue_time_expiry;
  std::string concurrency_tag;
  bool idempotent = false;
  std::string rerun_of;
  std::string created_by;
  // When the task may start (ms, database clock); nullopt: now. A scheduled deployment's QueueTime.
  std::optional<int64_t> queue_time;
};

// What a node holds while it executes a task.
struct Lease {
  std::string task_id;
  std::string node;
  int64_t epoch = 0;
};

// The one ownership predicate: the lease still holds — the task is executed by the lease's node,
// under the same claim, and is still Executing or Cancelling. Adds it to `w` (unqualified columns
// of server_tasks).
repo::Where& AddLeaseHeld(repo::Where& w, const Lease& lease);

// Inputs of the fair-share rule (reference-octopus-ha.md §4.2).
struct ClusterLoad {
  int64_t active = 0;     // Executing or Cancelling, cluster-wide
  int64_t pending = 0;    // Queued and eligible
  int64_t total_cap = 0;  // sum of the caps of online, undrained nodes
};
// A node at `running`/`cap` claims only if it is below its cap and its own load ratio is not
// above the cluster's ((active + pending) / total_cap), so busy nodes let idle ones go first.
bool ShouldClaim(int64_t running, int64_t cap, const ClusterLoad& load);

// What becomes of a task whose executing node died or lost ownership.
enum class Orphan { kRequeue, kFail, kCancel };
Orphan OrphanPolicy(const Task& t);

struct TaskFilter {
  std::optional<std::string> space_id;
  std::vector<std::string> ids;  // any of, case-insensitive
  // Any of, as the API shows them: a parked task (Queued in its row) counts as Executing.
  std::vector<TaskState> states;
  std::optional<std::string> node;  // node name
  std::optional<std::string> name;
  bool active = false;   // Queued, Executing, Cancelling
  bool running = false;  // Executing, Cancelling (and parked: shown Executing)
  // With (true) or without (false) a pending interruption (deploy/interruptions.h's table).
  std::optional<bool> has_pending_interruptions;
  int64_t skip = 0;
  int64_t take = 30;
};

class TaskQueue {
 public:
  static constexpr const char* kWakeChannel = "cuttle_tasks";
  static constexpr const char* kCancelChannel = "cuttle_cancel";

  explicit TaskQueue(db::Database& db) : db_(db) {}

  // Inserts a Queued task. When this node may run it (see SetLocalDispatch), the enqueuing thread
  // claims and starts it at once; otherwise, or if it ended up claiming an older task, every node
  // is sent a wake-up hint.
  Result<Task> Enqueue(const NewTask& t);
  // Inserts a Queued task inside the caller's transaction, so that the task and the document it
  // runs (a deployment, a runbook run) commit or vanish together. After the commit, Announce(id)
  // hands it to this node or hints every node.
  Result<Task> EnqueueIn(db::Transaction& tx, const NewTask& t);
  void Announce(const std::string& id);

  // The local side of dispatch, installed by this node's runner: whether the node may claim a task
  // now, and claiming and starting tasks in the calling thread. A new task then
  // starts without a thread handoff, and without a hint to the other nodes, which could not claim
  // it anyway. Set before the queue is shared.
  struct LocalDispatch {
    std::function<bool()> may_claim;
    std::function<std::vector<std::string>()> claim_and_start;  // the ids claimed
  };
  void SetLocalDispatch(LocalDispatch dispatch) { local_dispatch_ = std::move(dispatch); }

  // Claims the oldest eligible Queued task for `node` (not expired, its concurrency tag free).
  // Returns nullopt when there is none.
  Result<std::optional<Task>> Claim(const std::string& node);
  // Claims up to `limit` such tasks in one statement, oldest first. Two tasks sharing a
  // concurrency tag are never claimed together: should a batch hold both, the unique index
  // refuses it and one task is claimed instead.
  Result<std::vector<Task>> ClaimUpTo(const std::string& node, int64_t limit);

  Result<ClusterLoad> Load(int64_t node_timeout_ms);

  // Fenced writes by the executing node.
  Result<void> MarkWorkStarted(const Lease& lease);
  Result<void> Touch(const Lease& lease, bool has_warnings_or_errors);
  // `log_text` is the task's whole log when it never reached a file (TaskLogWriter::TextForResult),
  // recorded in the same statement as the result so readers see both at once.
  Result<void> Complete(const Lease& lease, TaskState final_state, const std::string& error,
                        bool has_warnings_or_errors,
                        const std::optional<std::string>& log_text = std::nullopt);
  // Hands a task back to the queue (unstarted or idempotent work the node could not finish).
  Result<void> Requeue(const Lease& lease);

  // Parks the task (fenced, and only while Executing: a task being cancelled is not parked): it
  // becomes Queued and parked, holding no node, no claim and no thread, and keeping its
  // concurrency tag and start time, until Unpark. kLostOwnership when the lease no longer holds
  // or the task is being cancelled. Runs in the caller's transaction, which records why the task
  // waits (deploy::RaiseAndPark); the run function then returns TaskOutcome::HandedOff().
  // `has_warnings_or_errors` (what this claim's log holds) is OR-ed into the task's flag: the
  // runner records nothing for a task handed off, and the claim that resumes it has a log writer
  // of its own that never saw these lines.
  static Result<void> ParkIn(db::Transaction& tx, const Lease& lease,
                             bool has_warnings_or_errors = false);
  // Lets a parked task be claimed again (by any node, under a new epoch), in the caller's
  // transaction, which records the answer; Announce(id) after the commit. False when it was not
  // parked (already resumed, or cancelled meanwhile).
  static Result<bool> UnparkIn(db::Transaction& tx, const std::string& id);
  // Those of `leases` that still hold (AddLeaseHeld), as their tasks are now: one missing from the
  // answer was lost. How the runner notices cancellation and lost leases.
  Result<std::vector<Task>> Held(const std::vector<Lease>& leases);

  // Cancel from any node: Queued -> Canceled at once; Executing -> Cancelling (the owner stops the
  // work and writes Canceled). A parked task is Queued, so it is Canceled at once and un-parked (a
  // Canceled task must not hold its concurrency tag); its pending interruptions are the caller's
  // to close (deploy::ClosePendingInterruptions). Finished tasks are left as they are. Returns the
  // task afterwards.
  Result<Task> Cancel(const std::string& id);

  // Queues a copy of a finished task.
  Result<Task> Rerun(const std::string& id, const std::string& created_by);

  // Active tasks of nodes that are offline (unseen for node_timeout_ms, marked offline, or
  // deleted), or of `own_node` when it is given (a restarting node's leftovers).
  Result<std::vector<Task>> FindOrphans(int64_t node_timeout_ms,
                                        const std::optional<std::string>& own_node);
  // Applies OrphanPolicy to one orphan, conditionally on its lease being unchanged. Returns false
  // if someone else changed it first.
  Result<bool> ResolveOrphan(const Task& t, const std::string& error_message);

  // Active tasks claimed by `node` more than `older_than_ms` ago (database clock). The runner
  // compares them with what it really runs: a claim whose reply was lost (the connection dropped
  // after the UPDATE committed, and the retry claimed something else) leaves a task that this
  // live node owns but no thread executes. "Claimed" is measured from the row's last update (the
  // claim sets it), not its start time: a resumed deployment keeps the start of its first claim.
  Result<std::vector<Task>> ClaimedBy(const std::string& node, int64_t older_than_ms);

  // Queued tasks whose QueueTimeExpiry has passed become TimedOut. Returns how many.
  Result<int64_t> ExpireQueued();

  // Finished tasks completed before `cutoff_ms` whose logs have not been purged yet.
  Result<std::vector<Task>> FinishedBefore(int64_t cutoff_ms, int64_t limit);

  Result<std::optional<Task>> Get(const std::string& id);
  // The log recorded with a task's result (a short task's); nullopt when its log is a file.
  Result<std::optional<std::string>> LogText(const std::string& id);
  // Drops what retention purges from the row (the recorded log) and marks the logs purged.
  Result<void> MarkLogsPurged(const std::string& id);
  // Matching tasks newest first, paged in SQL, and the total before paging. With `ids`, every
  // requested task is returned whatever `skip` says: the api-client's waiter sends skip=300 for
  // its second batch of ids (reference-octopus-api.md section 2.10).
  Result<repo::Page<Task>> List(const TaskFilter& f);

 private:
  Result<void> FencedUpdate(const Lease& lease, const std::string& set_clause, db::Params params);

  // Hands a new task to this node's runner (`here`: the node may claim it), else hints every
  // node.
  void Dispatch(const std::string& id, bool here);

  db::Database& db_;
  std::optional<LocalDispatch> local_dispatch_;
};

}  // namespace cuttle::tasks
