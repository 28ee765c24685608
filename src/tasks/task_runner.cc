#include "tasks/task_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/log.h"
#include "core/strings.h"
#include "repo/nodes.h"
#include "tasks/task_log.h"
#include "tasks/work_dir.h"

namespace cuttle::tasks {

namespace {
constexpr auto kLoadMaxAge = std::chrono::milliseconds(250);
constexpr auto kWatchInterval = std::chrono::milliseconds(200);
// How often, in watch intervals, claims are reconciled with the running tasks.
constexpr int kReconcileEvery = 10;
// createArtifact messages honoured per task; the rest are refused (a script printing them in a
// loop must not grow the node's memory).
constexpr size_t kMaxArtifactsPerTask = 1000;

// One of the runner's claim permits, held for a scope.
class ClaimPermit {
 public:
  explicit ClaimPermit(std::counting_semaphore<>& s) : s_(s) { s_.acquire(); }
  ~ClaimPermit() { s_.release(); }
  ClaimPermit(const ClaimPermit&) = delete;
  ClaimPermit& operator=(const ClaimPermit&) = delete;

 private:
  std::counting_semaphore<>& s_;
};

std::string NodeLastSeen(db::Database& db, const std::string& node) {
  auto seen = repo::NodeLastSeen(db, node);
  if (!seen || !*seen) return "an unknown time (its node record was deleted)";
  return core::FormatIso8601(**seen);
}
}  // namespace

TaskRunner::TaskRunner(db::Database& db, cluster::NodeRegistry& registry, RunnerOptions options)
    : db_(db),
      registry_(registry),
      options_(std::move(options)),
      queue_(db),
      artifacts_(db, options_.artifacts_dir) {}

TaskRunner::~TaskRunner() { Stop(std::chrono::milliseconds(0)); }

bool TaskRunner::Fenced(Slot& slot) {
  if (slot.lost) return true;
  if (registry_.fenced()) return true;
  int64_t generation = registry_.fence_generation();
  if (generation == slot.fence_generation) return false;
  // The node was fenced (e.g. stopped) since ownership was last verified: another node may have
  // taken the task over meanwhile. Ask the database before writing anything more.
  auto held = queue_.Held({LeaseOf(slot)});
  if (!held) return true;
  if (held->empty()) {
    slot.lost = true;
    return true;
  }
  slot.fence_generation = generation;
  return false;
}

Lease TaskRunner::LeaseOf(const Slot& slot) const {
  return Lease{slot.task.id, options_.node_name, slot.task.claim_epoch};
}

std::string TaskRunner::LogPath(const std::string& task_id) const {
  return TaskLogPath(options_.tasklogs_dir, task_id);
}

Result<void> TaskRunner::Start() {
  // Working folders and artifact copies of tasks this node ran before it was killed: nothing runs
  // in them now.
  CUTTLE_TRY_VOID(PrepareWorkRoot(options_.work_dir));
  artifacts_.SweepTemporaries(options_.node_name);
  // A restarting node resolves what it was running when it stopped, before it claims anything.
  CUTTLE_TRY(auto own, queue_.FindOrphans(options_.node_timeout_ms, options_.node_name));
  CUTTLE_TRY_VOID(ResolveOrphans(own, /*own=*/true));
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  watcher_ = std::thread([this] { WatchLoop(); });
  return {};
}

void TaskRunner::Stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) return;
  Wake();
  if (dispatcher_.joinable()) dispatcher_.join();
  std::unique_lock lock(mu_);
  idle_cv_.wait_for(lock, grace, [&] { return workers_ == 0; });
  if (workers_ > 0) {
    CUTTLE_LOG_WARN("stopping {} running task(s) at shutdown", running_.size());
    killing_ = true;
    idle_cv_.wait(lock, [&] { return workers_ == 0; });
  }
  lock.unlock();
  work_dirs_.Drain();
  if (watcher_.joinable()) watcher_.join();
}

int TaskRunner::running() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(running_.size());
}

void TaskRunner::Wake() { wake_ = true; }

TaskQueue::LocalDispatch TaskRunner::LocalDispatch() {
  return {[this] { return FreeSlots() > 0; }, [this] { return TryClaimAndStart(); }};
}

int64_t TaskRunner::FreeSlots() {
  if (stopping_ || !registry_.healthy()) return 0;
  repo::NodeRow row = registry_.row();
  if (row.is_in_maintenance_mode) return 0;
  int64_t running;
  bool refresh;
  {
    std::lock_guard lock(mu_);
    running = static_cast<int64_t>(running_.size());
    if (running >= row.max_concurrent_tasks) return 0;
    // An idle node's ratio is 0: never above the cluster's.
    if (running == 0) return row.max_concurrent_tasks;
    refresh = std::chrono::steady_clock::now() - load_at_ > kLoadMaxAge;
  }
  // Fair share: the cluster's load is read at most every 250 ms; an approximation is enough to
  // keep a busy node from grabbing work an idle one could start.
  if (refresh) {
    auto load = queue_.Load(options_.node_timeout_ms);
    if (!load) return 0;
    std::lock_guard lock(mu_);
    load_ = *load;
    load_at_ = std::chrono::steady_clock::now();
  }
  std::lock_guard lock(mu_);
  if (!ShouldClaim(running, row.max_concurrent_tasks, load_)) return 0;
  return row.max_concurrent_tasks - running;
}

std::vector<std::shared_ptr<TaskRunner::Slot>> TaskRunner::ClaimSlots() {
  std::vector<std::shared_ptr<Slot>> out;
  int64_t free = FreeSlots();
  if (free <= 0) return out;
  auto claimed = queue_.ClaimUpTo(options_.node_name, free);
  if (!claimed) {
    CUTTLE_LOG_WARN("claiming tasks failed: {}", claimed.error().message());
    return out;
  }
  if (!claimed->empty() && !registry_.healthy()) {
    // The claim was retried through a database outage (a failover) and came back once the
    // database was up again, but before this node's heartbeat was: the node may be fenced, or
    // about to be, so tasks started now would be stopped and failed as soon as they began. They
    // have not started: hand them back to the queue, for this node's dispatcher (woken when its
    // heartbeat recovers) or another node. A hand-back that fails leaves the claim to
    // ReconcileClaims or the reaper, which re-queue an unstarted task.
    for (const auto& t : *claimed) {
      Lease lease{t.id, options_.node_name, t.claim_epoch};
      auto back = queue_.Requeue(lease);
      CUTTLE_LOG_WARN("{}: claimed while the heartbeat was failing; {}", t.id,
                      back ? std::string("handed back to the queue")
                           : std::string("hand-back failed: ") + back.error().message());
    }
    return out;
  }
  int64_t generation = registry_.fence_generation();
  std::lock_guard lock(mu_);
  for (auto& t : *claimed) {
    auto slot = std::make_shared<Slot>();
    slot->task = std::move(t);
    slot->fence_generation = generation;
    running_[slot->task.id] = slot;
    load_.active++;
    if (load_.pending > 0) load_.pending--;
    out.push_back(std::move(slot));
  }
  return out;
}

void TaskRunner::Hand(std::vector<std::shared_ptr<Slot>> slots) {
  std::vector<std::shared_ptr<Slot>> spawn;
  {
    std::lock_guard lock(mu_);
    for (auto& slot : slots) {
      // Each worker waiting for a claim takes one ready slot before it would claim: never hand
      // them more than there are such workers, or a slot could wait with no thread to run it.
      if (static_cast<int>(ready_.size()) < waiting_) {
        ready_.push_back(std::move(slot));
      } else {
        ++workers_;
        spawn.push_back(std::move(slot));
      }
    }
  }
  for (auto& slot : spawn) std::thread([this, slot] { Work(slot); }).detach();
}

std::vector<std::string> TaskRunner::TryClaimAndStart() {
  ClaimPermit permit(claimers_);
  auto slots = ClaimSlots();
  std::vector<std::string> ids;
  for (const auto& slot : slots) ids.push_back(slot->task.id);
  Hand(std::move(slots));
  return ids;
}

std::shared_ptr<TaskRunner::Slot> TaskRunner::NextSlot() {
  {
    std::lock_guard lock(mu_);
    ++waiting_;
  }
  // At most two claim statements in flight per node: the workers that finish while they are on
  // their way to the database take what they bring back (each claims every free slot) instead
  // of each sending their own. Fewer, larger claims keep the database's cost per task from
  // growing as nodes, and with them concurrent claimers, are added (docs/design-notes.md).
  ClaimPermit permit(claimers_);
  {
    std::lock_guard lock(mu_);
    --waiting_;
    if (!ready_.empty()) {
      auto slot = std::move(ready_.front());
      ready_.pop_front();
      return slot;
    }
  }
  if (killing_) return nullptr;
  auto slots = ClaimSlots();
  if (slots.empty()) return nullptr;
  auto mine = std::move(slots.front());
  slots.erase(slots.begin());
  Hand(std::move(slots));
  return mine;
}

void TaskRunner::DispatchLoop() {
  auto last_attempt = std::chrono::steady_clock::now() - options_.poll_interval;
  bool was_healthy = true;
  while (!stopping_) {
    bool notified = db_.WaitForNotification(TaskQueue::kWakeChannel, std::chrono::milliseconds(50));
    bool woken = wake_.exchange(false);
    // Hints sent while the heartbeat was failing (a database outage) were ignored or never
    // arrived: look at the queue as soon as the heartbeat is back rather than at the next poll.
    bool healthy = registry_.healthy();
    bool recovered = !was_healthy && healthy;
    was_healthy = healthy;
    auto now = std::chrono::steady_clock::now();
    if (!notified && !woken && !recovered && now - last_attempt < options_.poll_interval) continue;
    last_attempt = now;
    while (!stopping_ && !TryClaimAndStart().empty()) {
    }
  }
}

void TaskRunner::Work(std::shared_ptr<Slot> slot) {
  while (slot) {
    Execute(*slot);
    {
      std::lock_guard lock(mu_);
      running_.erase(slot->task.id);
      if (load_.active > 0) load_.active--;
    }
    slot = killing_ ? nullptr : NextSlot();
  }
  std::lock_guard lock(mu_);
  --workers_;
  idle_cv_.notify_all();
}

// The TaskExecution handed to a kind's run function: the runner's means, bound to one slot.
class TaskRunner::Execution : public TaskExecution {
 public:
  Execution(TaskRunner& runner, Slot& slot, TaskLogWriter& log)
      : runner_(runner), slot_(slot), log_(log), lease_(runner.LeaseOf(slot)) {}

  // TaskExecution
  const Task& task() const override { return slot_.task; }
  const Lease& lease() const override { return lease_; }
  const std::string& node_name() const override { return runner_.options_.node_name; }
  TaskLogWriter& log() override { return log_; }
  bool StartWork() override { return runner_.StartWork(slot_, log_); }
  TaskOutcome RunScript(const ScriptStep& step) override {
    return runner_.RunScript(slot_, log_, step);
  }
  std::string StopReason() override { return runner_.StopReason(slot_, log_); }
  Result<std::string> CreateWorkDir() override {
    return CreateTaskDir(runner_.options_.work_dir, slot_.task.id);
  }
  void RemoveWorkDir(const std::string& dir) override { runner_.work_dirs_.Remove(dir); }
  std::string CollectArtifacts(const std::string& work_dir,
                               const std::vector<engine::ArtifactRequest>& requests) override {
    return runner_.CollectArtifacts(
        slot_, log_, work_dir, requests,
        std::chrono::steady_clock::now() + runner_.options_.script_timeout);
  }

 private:
  TaskRunner& runner_;
  Slot& slot_;
  TaskLogWriter& log_;
  const Lease lease_;
};

bool TaskRunner::StartWork(Slot& slot, TaskLogWriter& log) {
  if (auto r = queue_.MarkWorkStarted(LeaseOf(slot)); !r) {
    if (r.error().code() == ErrorCode::kLostOwnership) {
      slot.lost = true;
      return false;
    }
    Abandon(slot, log, "could not record the start of the work: " + ClientMessage(r.error()));
    return false;
  }
  return true;
}

void TaskRunner::Execute(Slot& slot) {
  const Task& t = slot.task;
  const Lease lease = LeaseOf(slot);
  TaskLogWriter log(LogPath(t.id), [this, &slot] { return !Fenced(slot); });
  (void)log.Append(LogCategory::kVerbose, fmt::format("{} claimed by node {} (claim {})", t.id,
                                                      options_.node_name, t.claim_epoch));

  const TaskKinds& kinds = options_.kinds ? *options_.kinds : TaskKinds::Registry();
  TaskState final_state = TaskState::kSuccess;
  std::string error;
  if (const TaskKind* kind = kinds.Find(t.name)) {
    Execution execution(*this, slot, log);
    TaskOutcome outcome;
    try {
      outcome = kind->run(execution);
    } catch (const std::exception& e) {
      // A kind's bug fails its task; it must not end the node and every task running on it.
      outcome = {};
      outcome.state = TaskState::kFailed;
      outcome.error = ClientMessage(
          Error::Internal(std::string("task kind ") + kind->name + " threw: " + e.what()));
      (void)log.Append(LogCategory::kError, outcome.error);
    }
    if (outcome.handed_off) return;
    final_state = outcome.state;
    error = std::move(outcome.error);
  } else {
    final_state = TaskState::kFailed;
    error = fmt::format("This node cannot execute tasks named '{}'.", t.name);
    (void)log.Append(LogCategory::kError, error);
  }

  // Lines were dropped because the node fenced itself meanwhile (e.g. the claim's reply came back
  // just as a database outage passed half the node timeout): the task's log is incomplete, so its
  // result is not recorded as if it had run; the task is handed back like any other given up.
  if (slot.lost) return;
  if (log.refused()) {
    Abandon(slot, log,
            fmt::format("Node {} fenced itself while running the task, and gave the task up.",
                        options_.node_name));
    return;
  }
  if (slot.cancel && final_state == TaskState::kSuccess) final_state = TaskState::kCanceled;
  if (final_state == TaskState::kSuccess) {
    (void)log.Append(LogCategory::kInfo, "Task completed successfully");
  }
  // A short task's log goes into its row with the result: no file is created for it.
  std::optional<std::string> text;
  if (auto r = log.TextForResult()) {
    text = std::move(*r);
  } else {
    CUTTLE_LOG_WARN("{}: writing the task log failed: {}", t.id, r.error().message());
  }
  auto done = queue_.Complete(lease, final_state, error, log.has_warnings_or_errors(), text);
  if (!done && done.error().code() != ErrorCode::kLostOwnership) {
    Abandon(slot, log, "could not record the result: " + ClientMessage(done.error()));
  }
}

TaskOutcome TaskRunner::Failed(TaskLogWriter& log, LogCategory category, std::string error) {
  (void)log.Append(category, error);
  return {.state = TaskState::kFailed, .error = std::move(error)};
}

TaskOutcome TaskRunner::RunScript(Slot& slot, TaskLogWriter& log, const ScriptStep& step) {
  const Task& t = slot.task;
  auto work_dir = CreateTaskDir(options_.work_dir, t.id);
  if (!work_dir) {
    CUTTLE_LOG_WARN("{}: {}", t.id, work_dir.error().message());
    return Failed(log, LogCategory::kError,
                  fmt::format("Node {} could not create the script's working folder (its log "
                              "says why).",
                              options_.node_name));
  }
  engine::StepScript script;
  script.body = step.body;
  script.work_dir = *work_dir;
  script.timeout = options_.script_timeout;
  script.env = step.env;
  script.env["OCTOPUS_TASK_ID"] = t.id;
  script.max_artifacts = kMaxArtifactsPerTask;
  auto deadline = std::chrono::steady_clock::now() + options_.script_timeout;
  engine::StepCallbacks cb;
  cb.on_line = [&](LogCategory c, std::string_view line) { (void)log.Append(c, line); };
  cb.should_stop = [&] { return StopReason(slot, log); };  // called at least every 50 ms
  // The working directory goes once the task is over (artifacts are collected from it first).
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{script.work_dir};
  auto result = engine::RunStep(script, cb);
  if (!result) return Failed(log, LogCategory::kError, ClientMessage(result.error()));
  const std::vector<ArtifactRequest>& to_collect = result->artifacts;
  const size_t refused_artifacts = result->refused_artifacts;
  std::string stop_reason = result->killed_reason;
  if (refused_artifacts > 0) {
    (void)log.Append(LogCategory::kError,
                     fmt::format("{} more artifacts were not collected: a task may collect at "
                                 "most {}",
                                 refused_artifacts, kMaxArtifactsPerTask));
  }
  // A script that was stopped gets none of its artifacts collected: whatever stopped it
  // (cancel, timeout, shutdown) must not wait for a copy.
  if (stop_reason.empty()) {
    stop_reason = CollectArtifacts(slot, log, script.work_dir, to_collect, deadline);
  } else if (!to_collect.empty()) {
    (void)log.Append(LogCategory::kWarning,
                     fmt::format("{} artifact(s) were not collected: the script was stopped",
                                 to_collect.size()));
  }
  if (stop_reason == "lost") {
    return {.handed_off = true};  // another node owns the task now: write nothing more
  } else if (stop_reason == "fenced") {
    Abandon(slot, log,
            fmt::format("Node {} lost contact with the database while running the "
                        "script, stopped it, and gave the task up.",
                        options_.node_name));
    return {.handed_off = true};
  } else if (stop_reason == "shutdown") {
    Abandon(slot, log,
            fmt::format("Node {} shut down while the task was running.", options_.node_name));
    return {.handed_off = true};
  } else if (stop_reason == "canceled") {
    auto out = Failed(log, LogCategory::kWarning, "The task was canceled.");
    out.state = TaskState::kCanceled;
    return out;
  } else if (!stop_reason.empty()) {
    return Failed(log, LogCategory::kError, stop_reason);
  } else if (result->exit_code != 0) {
    return Failed(log, LogCategory::kError,
                  !result->result_message.empty()
                      ? result->result_message
                      : fmt::format("The script returned exit code {}", result->exit_code));
  }
  return {};
}

std::string TaskRunner::StopReason(Slot& slot, TaskLogWriter& log) {
  if (slot.lost) return "lost";
  (void)log.FlushIfDue();
  if (Fenced(slot)) return slot.lost ? "lost" : "fenced";
  if (slot.cancel) return "canceled";
  if (killing_) return "shutdown";
  return "";
}

std::string TaskRunner::CollectArtifacts(Slot& slot, TaskLogWriter& log,
                                         const std::string& work_dir,
                                         const std::vector<ArtifactRequest>& requests,
                                         std::chrono::steady_clock::time_point deadline) {
  const Task& t = slot.task;
  const Lease lease = LeaseOf(slot);
  std::string timed_out =
      fmt::format("The task did not finish within {} ms (collecting artifacts) and was stopped.",
                  options_.script_timeout.count());
  auto should_stop = [&]() -> std::string {
    if (auto why = StopReason(slot, log); !why.empty()) return why;
    return std::chrono::steady_clock::now() > deadline ? timed_out : "";
  };
  for (const auto& r : requests) {
    if (auto why = should_stop(); !why.empty()) return why;
    auto source = ArtifactSource::Open(work_dir, r.path, r.length, options_.max_artifact_bytes);
    auto a = source ? artifacts_.Collect(lease, t.space_id, *source, r.name, should_stop)
                    : Result<Artifact>(Fail(source.error()));
    if (a) {
      (void)log.Append(LogCategory::kInfo,
                       fmt::format("Collected artifact {} ({} bytes)", r.name, a->size));
      continue;
    }
    if (auto why = should_stop(); !why.empty()) return why;
    // The node's own failures name its paths: they go to the node's log, not the task's.
    (void)log.Append(LogCategory::kError, fmt::format("Artifact {} was not collected: {}", r.name,
                                                      ClientMessage(a.error())));
  }
  return "";
}

void TaskRunner::Abandon(Slot& slot, TaskLogWriter& log, const std::string& why) {
  CUTTLE_LOG_WARN("{}: {}", slot.task.id, why);
  (void)log.Flush();  // what the task logged goes before the closing line (refused once fenced)
  // Retry until the database answers (or another node has taken the task over).
  for (int attempt = 0; !slot.lost; ++attempt) {
    auto held = queue_.Held({LeaseOf(slot)});
    if (held) {
      if (held->empty()) return;  // no longer ours: someone else settled it
      const Task& t = held->front();
      auto done = queue_.ResolveOrphan(t, why);
      if (done) {
        if (*done) (void)AppendLine(LogPath(t.id), LogCategory::kError, why);
        return;
      }
    }
    if (killing_ && attempt > 50) return;  // shutting down: the reaper of another node decides
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void TaskRunner::ReconcileClaims() {
  if (registry_.fenced()) return;
  auto claimed = queue_.ClaimedBy(options_.node_name, options_.lost_claim_age.count());
  if (!claimed || claimed->empty()) return;
  std::vector<Task> lost;
  {
    std::lock_guard lock(mu_);
    for (const auto& t : *claimed) {
      if (running_.count(t.id) == 0) lost.push_back(t);
    }
  }
  for (const auto& t : lost) {
    std::string why = fmt::format(
        "Node {} claimed this task but its reply was lost with a database connection, so the "
        "task never started there.",
        options_.node_name);
    // The line goes first: once re-queued, the task may run again and finish before a line
    // appended afterwards reaches its file, and a run that finds no file records its log in the
    // row, where this line would never show. Only this node holds the claim, so nobody else
    // resolves it meanwhile.
    (void)AppendLine(LogPath(t.id), LogCategory::kWarning, why);
    auto done = queue_.ResolveOrphan(t, why);
    if (done && *done) CUTTLE_LOG_WARN("{}: {}", t.id, why);
  }
}

void TaskRunner::WatchLoop() {
  for (int round = 1;; ++round) {
    db_.WaitForNotification(TaskQueue::kCancelChannel, kWatchInterval);
    if (round % kReconcileEvery == 0 && !stopping_) ReconcileClaims();
    std::vector<Lease> leases;
    {
      std::lock_guard lock(mu_);
      if (stopping_ && workers_ == 0) break;
      for (const auto& [id, slot] : running_) leases.push_back(LeaseOf(*slot));
    }
    if (leases.empty()) continue;
    auto held = queue_.Held(leases);
    if (!held) continue;
    std::lock_guard lock(mu_);
    for (const auto& lease : leases) {
      auto it = running_.find(lease.task_id);
      if (it == running_.end()) continue;
      Slot& slot = *it->second;
      auto now = std::find_if(held->begin(), held->end(),
                              [&](const Task& t) { return t.id == lease.task_id; });
      if (now == held->end()) {
        if (!slot.lost)
          CUTTLE_LOG_WARN("{}: lost ownership (claim {})", lease.task_id, lease.epoch);
        slot.lost = true;
      } else if (now->state == TaskState::kCancelling) {
        slot.cancel = true;
      }
    }
  }
}

Result<int> TaskRunner::ResolveOrphans(const std::vector<Task>& orphans, bool own) {
  int resolved = 0;
  for (const auto& t : orphans) {
    std::string message;
    Orphan policy = OrphanPolicy(t);
    std::string last_seen = NodeLastSeen(db_, t.server_node);
    if (own) {
      message = fmt::format(
          "Node {} restarted while it was executing this task (it was last seen at {}).",
          t.server_node, last_seen);
    } else {
      message = fmt::format(
          "The server node {} that was executing this task stopped responding at {}; node {} "
          "handled the task.",
          t.server_node, last_seen, options_.node_name);
    }
    CUTTLE_TRY(auto done, queue_.ResolveOrphan(t, message));
    if (!done) continue;
    ++resolved;
    std::string line = message;
    if (policy == Orphan::kRequeue) line += " The task was queued again.";
    if (policy == Orphan::kCancel) line += " The task was canceled.";
    if (policy == Orphan::kFail) line += " The task failed.";
    (void)AppendLine(LogPath(t.id),
                     policy == Orphan::kFail ? LogCategory::kError : LogCategory::kWarning, line);
    CUTTLE_LOG_WARN("{}: {}", t.id, line);
  }
  return resolved;
}

Result<int> TaskRunner::ReapDeadNodes() {
  CUTTLE_TRY(auto orphans, queue_.FindOrphans(options_.node_timeout_ms, std::nullopt));
  return ResolveOrphans(orphans, /*own=*/false);
}

}  // namespace cuttle::tasks
