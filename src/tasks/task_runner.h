// TaskRunner: this node's executor of server tasks (DESIGN.md §3.2). It claims tasks from the
// shared queue while the node is online, undrained, below its cap and not busier than the cluster
// (fair share), runs each on its own thread, stops work that is cancelled from any node or whose
// lease was lost, and fences itself when the node cannot heartbeat.
//
// Dispatch: a task enqueued through this node is claimed at once by the enqueuing thread when the
// node may run it (LocalDispatch); otherwise the enqueue sends NOTIFY, and the runners wake on it
// (or on a poll every second, so a lost notification costs at most a second) and claim. A worker
// that finishes a task claims the next one itself, so a backlog drains without waiting for a
// wake-up.
//
// Thread-safe. Start once; Stop once (the destructor stops).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "cluster/node_registry.h"
#include "core/error.h"
#include "db/database.h"
#include "engine/step_runner.h"
#include "storage/remover.h"
#include "tasks/artifacts.h"
#include "tasks/task_kinds.h"
#include "tasks/task_log.h"
#include "tasks/task_queue.h"
#include "tasks/work_dir.h"

namespace cuttle::tasks {

struct RunnerOptions {
  std::string node_name;
  std::string tasklogs_dir;
  std::string artifacts_dir;
  // Node-local scratch space holding each script's working folder (work_dir.h); this node's own:
  // Start() sweeps it.
  std::string work_dir;
  int node_timeout_ms = 5000;
  // Largest file a script may collect as an artifact (tasks.max_artifact_bytes).
  int64_t max_artifact_bytes = 1LL << 30;
  std::chrono::milliseconds script_timeout{3'600'000};
  std::chrono::milliseconds poll_interval{1000};
  // A claim this old that no thread of this node executes was lost (see ReconcileClaims); far
  // longer than the moment between a claim's commit and its task being registered as running.
  std::chrono::milliseconds lost_claim_age{10000};
  // The kinds this node executes; nullptr: TaskKinds::Registry().
  const TaskKinds* kinds = nullptr;
};

class TaskRunner {
 public:
  TaskRunner(db::Database& db, cluster::NodeRegistry& registry, RunnerOptions options);
  ~TaskRunner();

  // Resolves this node's leftovers from a previous run (before claiming anything), then starts
  // the dispatcher and the watcher.
  Result<void> Start();
  // Stops claiming, lets running tasks finish for at most `grace`, then stops the rest and hands
  // them to the dead-node policy (re-queue or fail) with a message saying the node shut down.
  void Stop(std::chrono::milliseconds grace);

  int running() const;
  // Wakes the dispatcher (drain lifted, cap raised...).
  void Wake();
  // The local side of dispatch for TaskQueue::SetLocalDispatch: the thread that has just enqueued a
  // task claims and starts it (or an older one) when this node may, without a thread handoff.
  TaskQueue::LocalDispatch LocalDispatch();

  // The dead-node policy applied to every active task of nodes that are offline. Run by the
  // cluster-wide reaper job; safe to run on several nodes at once.
  Result<int> ReapDeadNodes();

 private:
  struct Slot {
    Task task;
    std::atomic<int64_t> fence_generation{0};  // the registry's when ownership was last verified
    std::atomic<bool> cancel{false};
    std::atomic<bool> lost{false};
  };

  void DispatchLoop();
  void WatchLoop();
  // Hands back tasks the database says this node executes but no thread of it does (see
  // TaskQueue::ClaimedBy).
  void ReconcileClaims();
  // How many tasks this node may claim now: 0 while stopping, while its heartbeat fails or it is
  // fenced (NodeRegistry::healthy), drained, at its cap or busier than the cluster (fair share),
  // else its free slots.
  int64_t FreeSlots();
  // Claims up to FreeSlots() tasks in one statement and registers them as running; hands them
  // back unstarted if the node's heartbeat failed meanwhile. Called holding one of claimers_.
  std::vector<std::shared_ptr<Slot>> ClaimSlots();
  // Gives claimed slots to the workers waiting for a claim (at most one each), and starts a
  // thread for each of the rest. Called holding one of claimers_.
  void Hand(std::vector<std::shared_ptr<Slot>> slots);
  // Claims what this node may and starts the tasks; the ids claimed.
  std::vector<std::string> TryClaimAndStart();
  // A worker's next task: one handed to it while it waited, else one it claims (with any others
  // the node may take, handed on); nullptr when there is none.
  std::shared_ptr<Slot> NextSlot();
  // A worker thread: runs `first`, then keeps taking tasks while there are any.
  void Work(std::shared_ptr<Slot> first);
  void Execute(Slot& slot);
  class Execution;  // the TaskExecution a kind's run function gets
  // TaskExecution::StartWork: false if the task was lost or handed to the dead-node policy.
  bool StartWork(Slot& slot, TaskLogWriter& log);
  // TaskExecution::RunScript: the script in a fresh working folder, then its artifacts.
  TaskOutcome RunScript(Slot& slot, TaskLogWriter& log, const ScriptStep& step);
  // Logs `error` and returns it as a kFailed outcome.
  static TaskOutcome Failed(TaskLogWriter& log, LogCategory category, std::string error);
  // Why the running task must stop now ("lost", "fenced", "canceled", "shutdown"), or "".
  std::string StopReason(Slot& slot, TaskLogWriter& log);
  using ArtifactRequest = engine::ArtifactRequest;
  // Collects what the script asked for, from its working folder. Returns why the collection was
  // stopped (a StopReason, or the task's deadline passing), or "".
  std::string CollectArtifacts(Slot& slot, TaskLogWriter& log, const std::string& work_dir,
                               const std::vector<ArtifactRequest>& requests,
                               std::chrono::steady_clock::time_point deadline);
  // After the node fenced itself or shut down mid-task: hand the task to the dead-node policy
  // once the database answers, unless someone already did.
  void Abandon(Slot& slot, TaskLogWriter& log, const std::string& why);
  std::string LogPath(const std::string& task_id) const;
  // True while this node is fenced, or if it was fenced since the task's ownership was last
  // verified and the database says the task's lease no longer holds.
  bool Fenced(Slot& slot);
  Result<int> ResolveOrphans(const std::vector<Task>& orphans, bool own);
  Lease LeaseOf(const Slot& slot) const;

  db::Database& db_;
  cluster::NodeRegistry& registry_;
  const RunnerOptions options_;
  TaskQueue queue_;
  ArtifactStore artifacts_;
  storage::Remover work_dirs_;         // removes the folders of RemoveWorkDir (drained by Stop)
  std::atomic<bool> stopping_{false};  // no new claims
  std::atomic<bool> killing_{false};   // stop running work too
  std::thread dispatcher_;
  std::thread watcher_;
  std::atomic<bool> wake_{false};

  // At most two claim statements in flight per node (see NextSlot).
  std::counting_semaphore<> claimers_{2};
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  // State below is protected by mu_.
  std::map<std::string, std::shared_ptr<Slot>> running_;  // claimed: ready or executing
  std::deque<std::shared_ptr<Slot>> ready_;               // claimed, for a waiting worker
  int waiting_ = 0;  // workers waiting for a claim (ready_ never holds more slots than this)
  int workers_ = 0;  // detached worker threads still alive
  ClusterLoad load_;
  std::chrono::steady_clock::time_point load_at_{};
};

}  // namespace cuttle::tasks
