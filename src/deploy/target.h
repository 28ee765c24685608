// Targets: where one action of a deployment runs (docs/engine.md, "Targets"). The orchestrator
// hands a Target a StepRequest already resolved (the action's variables evaluated, its package
// fetched) and gets back the engine's StepOutcome; the Target decides how the work reaches the
// machine. This module implements the built-in worker (steps with Octopus.Action.RunOnServer,
// steps without roles, and `None` cloud-region targets): the step runs on this node. Issue 9's
// agent implements the same interface with a command row any node can hand to the agent.
//
// A Target is used by one unit at a time (the orchestrator makes one per unit); BuiltInWorker's
// methods may run concurrently on distinct instances.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "engine/action_runner.h"
#include "engine/step_runner.h"
#include "engine/variables.h"
#include "feed/package_store.h"
#include "tasks/task_kinds.h"

namespace cuttle::deploy {

// A package of the built-in feed, as the release selected it.
struct PackageRef {
  std::string space_id;
  std::string package_id;
  std::string version;
  std::string feed_id;
};

// One action to run on a target (the engine's, so the agent runs the same thing).
using StepRequest = engine::ActionRequest;

class Target {
 public:
  virtual ~Target() = default;
  // Runs the action. Lines reach `callbacks.on_line` masked; `callbacks.should_stop` is polled
  // (a non-empty answer kills the work). The outcome carries the exit code (a failed package
  // convention is exit code 1 with its message in result_message), output variables and
  // artifacts. Errors only when the work could not be started at all.
  virtual Result<engine::StepOutcome> Run(const StepRequest& request,
                                          const engine::StepCallbacks& callbacks) = 0;
  // Makes a package file available on the machine; returns its path there.
  virtual Result<std::string> Fetch(const PackageRef& package) = 0;
};

// The built-in worker: runs on this node, in a fresh folder under the node's work_dir (the
// task's CreateWorkDir), collecting the artifacts a script asks for through the task's
// CollectArtifacts, and removing the folder afterwards. Packages are read from the built-in
// feed's files in shared storage; they are installed under `home` (Applications/ and
// DeploymentJournal.json: the worker's application root and journal, kept between deployments).
class BuiltInWorker : public Target {
 public:
  BuiltInWorker(tasks::TaskExecution& execution, feed::PackageStore* packages, std::string home,
                std::chrono::milliseconds script_timeout);

  Result<engine::StepOutcome> Run(const StepRequest& request,
                                  const engine::StepCallbacks& callbacks) override;
  Result<std::string> Fetch(const PackageRef& package) override;

 private:
  tasks::TaskExecution& execution_;
  feed::PackageStore* packages_;
  std::string home_;
  std::chrono::milliseconds script_timeout_;
};

}  // namespace cuttle::deploy
