// Task kinds: what a server task named "Noop" or "AdHocScript" is. A kind has a name, an
// idempotent flag (may the task be queued again after its node died mid-way?), a check of its
// arguments when a task is created, and the function that runs it. The API looks the kind up when
// a task is created (api/tasks.cc), the runner when it executes one (task_runner.cc); nothing else
// compares task names.
//
// Registering a kind from outside this module (the apps/ wiring, an engine module):
//
//   tasks::TaskKind deploy;
//   deploy.name = "Deploy";
//   deploy.idempotent = false;               // a half-done deployment must not silently re-run
//   deploy.creatable_by_api = false;         // queued by POST /deployments, not POST /tasks
//   deploy.validate = [](nlohmann::json& arguments) { return std::vector<std::string>{}; };
//   deploy.run = [](tasks::TaskExecution& x) -> tasks::TaskOutcome {
//     if (!x.StartWork()) return tasks::TaskOutcome::HandedOff();
//     return x.RunScript({.body = "...", .env = {}});
//   };
//   CUTTLE_CHECK(tasks::TaskKinds::Registry().Register(std::move(deploy)));
//
// Do it before the node starts its runner and its HTTP server (main() in apps/cuttle_server.cc):
// lookups are then safe from any thread. Register refuses a second kind of the same name.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "engine/step_runner.h"
#include "tasks/task_log.h"
#include "tasks/task_queue.h"

namespace cuttle::tasks {

// How a run ended.
struct TaskOutcome {
  TaskState state = TaskState::kSuccess;
  std::string error;        // the task's ErrorMessage when it did not succeed
  bool handed_off = false;  // given up or lost: the runner records nothing more

  static TaskOutcome Success() { return {}; }
  static TaskOutcome HandedOff() { return {.handed_off = true}; }
};

// One script for TaskExecution::RunScript.
struct ScriptStep {
  std::string body;                        // Bash
  std::map<std::string, std::string> env;  // besides OCTOPUS_TASK_ID and the allow-list
};

// What a kind's run function may do with the task it runs. Implemented by the runner; used by one
// thread, the task's worker, for the duration of the run.
class TaskExecution {
 public:
  virtual ~TaskExecution() = default;

  virtual const Task& task() const = 0;
  // The claim this node holds: a kind that writes state of its own makes those writes
  // conditional on it (AddLeaseHeld), as the queue's fenced writes are.
  virtual const Lease& lease() const = 0;
  virtual const std::string& node_name() const = 0;
  // The task's log; lines are refused once the node has fenced itself.
  virtual TaskLogWriter& log() = 0;
  // Records (fenced) that the work now has effects outside Cuttle: if the node dies from here on,
  // a non-idempotent task fails instead of running a second time elsewhere. False when the task
  // was lost or given up meanwhile; the run function then returns TaskOutcome::HandedOff().
  virtual bool StartWork() = 0;
  // Runs a script in a fresh working folder under the node's work_dir, watching for cancellation,
  // lost ownership, fencing, the timeout and shutdown, then collects the artifacts it asked for.
  virtual TaskOutcome RunScript(const ScriptStep& step) = 0;
  // Why the work must stop now ("lost", "fenced", "canceled", "shutdown"), or "".
  virtual std::string StopReason() = 0;
  // A fresh, empty working folder for one script under the node's work_dir (as RunScript makes
  // its own); the caller hands it to RemoveWorkDir when done.
  virtual Result<std::string> CreateWorkDir() = 0;
  // Removes a folder CreateWorkDir made, with everything in it: the runner does it on a thread
  // of its own (storage::Remover), so the caller does not wait for the file system.
  virtual void RemoveWorkDir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  // Collects the artifacts a script in `work_dir` asked for (as RunScript does after its script),
  // logging each one. Returns why it stopped early (StopReason's answers, or the script timeout
  // passing), or "".
  virtual std::string CollectArtifacts(const std::string& work_dir,
                                       const std::vector<engine::ArtifactRequest>& requests) = 0;
};

struct TaskKind {
  std::string name;  // as stored in server_tasks.name; matched case-insensitively
  // May the task run again on another node after its node died once work had started?
  bool idempotent = false;
  // Whether POST /api/tasks may create it (others are queued by their own resources).
  bool creatable_by_api = true;
  std::string default_description;
  // Checks and normalises the arguments of a new task (the names the run function reads,
  // whatever casing the client used); returns every problem, or nothing.
  std::function<std::vector<std::string>(nlohmann::json& arguments)> validate;
  std::function<TaskOutcome(TaskExecution& execution)> run;
};

// The kinds a node knows. Thread-safe: Register and Find may be called from any thread, though
// kinds are meant to be registered at start-up.
class TaskKinds {
 public:
  // The node's registry, holding the built-in kinds (Noop, AdHocScript) from the start.
  static TaskKinds& Registry();

  // kAlreadyExists if a kind of that name (case-insensitively) is registered; kInvalidArgument
  // without a name or a run function.
  Result<void> Register(TaskKind kind);
  // By name, case-insensitively; nullptr if unknown. The pointer stays valid for the registry's
  // life.
  const TaskKind* Find(std::string_view name) const;
  // The names of the kinds POST /api/tasks may create, in registration order.
  std::vector<std::string> CreatableByApi() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<TaskKind>> kinds_;  // protected by mu_; entries never move
};

// Registers Noop and AdHocScript in `kinds` (Registry() already has them).
void RegisterBuiltInKinds(TaskKinds& kinds);

}  // namespace cuttle::tasks
