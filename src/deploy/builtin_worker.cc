#include <fmt/format.h>

#include "deploy/target.h"

namespace cuttle::deploy {

namespace {

struct RemoveDir {
  tasks::TaskExecution& execution;
  std::string dir;
  ~RemoveDir() { execution.RemoveWorkDir(dir); }
};

}  // namespace

BuiltInWorker::BuiltInWorker(tasks::TaskExecution& execution, feed::PackageStore* packages,
                             std::string home, std::chrono::milliseconds script_timeout)
    : execution_(execution),
      packages_(packages),
      home_(std::move(home)),
      script_timeout_(script_timeout) {}

Result<std::string> BuiltInWorker::Fetch(const PackageRef& package) {
  if (packages_ == nullptr) {
    return Fail(Error::InvalidArgument("This node has no built-in package feed."));
  }
  CUTTLE_TRY(auto found, packages_->Find(package.space_id, package.package_id, package.version));
  if (!found) {
    return Fail(
        Error::NotFound(fmt::format("The package {} version {} is not in the built-in feed.",
                                    package.package_id, package.version)));
  }
  return packages_->PathOf(*found);
}

Result<engine::StepOutcome> BuiltInWorker::Run(const StepRequest& request,
                                               const engine::StepCallbacks& callbacks) {
  CUTTLE_TRY(auto work_dir, execution_.CreateWorkDir());
  RemoveDir cleanup{execution_, work_dir};
  Result<engine::StepOutcome> outcome =
      engine::RunAction(request, callbacks, work_dir, home_, script_timeout_);
  if (!outcome) return outcome;
  if (!outcome->artifacts.empty()) {
    if (outcome->killed_reason.empty()) {
      std::string why = execution_.CollectArtifacts(work_dir, outcome->artifacts);
      if (!why.empty()) outcome->killed_reason = why;
    } else if (callbacks.on_line) {
      callbacks.on_line(engine::LogCategory::kWarning,
                        fmt::format("{} artifact(s) were not collected: the step was stopped",
                                    outcome->artifacts.size()));
    }
  }
  return outcome;
}

}  // namespace cuttle::deploy
