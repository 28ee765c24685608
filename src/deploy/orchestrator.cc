#include "deploy/orchestrator.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/json.h"
#include "core/strings.h"
#include "deploy/agent_target.h"
#include "deploy/interruptions.h"
#include "deploy/units.h"
#include "engine/masker.h"
#include "engine/octostache.h"
#include "tasks/task_log.h"
#include "tasks/task_queue.h"

namespace cuttle::deploy {

using engine::LogCategory;
using nlohmann::json;

namespace {

constexpr const char* kExcludedError = "The target was excluded from the deployment.";

bool IsFinal(const std::string& state) {
  return state == "Succeeded" || state == "Failed" || state == "Skipped";
}

// Runs fn(0..n-1) on at most `width` threads, a new index starting whenever one ends (a sliding
// window). One at a time runs on the calling thread. An exception thrown by fn on a worker thread
// (which would terminate the process) stops the window taking new indices and is rethrown on the
// calling thread once every worker has ended, as if one at a time had run.
void ParallelFor(size_t n, size_t width, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  width = std::clamp<size_t>(width, 1, n);
  if (width == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  std::exception_ptr error;
  std::vector<std::thread> threads;
  threads.reserve(width);
  for (size_t w = 0; w < width; ++w) {
    threads.emplace_back([&] {
      try {
        for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
      } catch (...) {
        next.store(n);  // start nothing more
        std::lock_guard lock(error_mu);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

std::string PropertyText(const json& properties, std::string_view name) {
  const json* v = core::FindKeyIgnoreCase(properties, name);
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return v->get<bool>() ? "True" : "False";
  return v->dump();
}

// An output variable as recorded, to replay into another collection.
struct RecordedOutput {
  std::string action_name, machine_id, machine_name, name, value;
  bool sensitive = false;
};

// How a unit ended (or did not).
enum class UnitEnd { kSucceeded, kFailed, kSkipped, kCanceled, kWaiting, kLost };

class Orchestration {
 public:
  Orchestration(tasks::TaskExecution& x, const DeploymentInput& in, const OrchestratorOptions& o)
      : x_(x), in_(in), o_(o), db_(*o.db), lease_(x.lease()) {}

  tasks::TaskOutcome Run();

 private:
  // What one step of a group did.
  struct StepRun {
    bool failed = false;
    bool skipped = false;  // its condition said not to run it
    std::string error;
    std::vector<RecordedOutput> recorded;
    std::mutex mu;  // guards the above and `outputs` while targets run in parallel
    engine::OutputVariables outputs;
  };

  void Log(LogCategory c, std::string_view text);
  std::string Mask(std::string_view text);
  void AddMask(std::string_view value);
  // StopReason, serialised (units poll it from several threads); remembers lost and canceled.
  std::string Stop();
  bool Stopping() const { return lost_ || canceled_; }
  // After a park refused for lost ownership: whether the task was canceled while this claim still
  // holds it (the runner's cancel flag, or the row, which the runner's poll may not have read yet).
  bool CanceledWhileHeld();

  std::string UnitKey(const engine::PlannedStep& step, const engine::PlannedAction& action,
                      const engine::PlannedTarget* target) const;
  const UnitRow* Existing(const std::string& key) const;
  UnitRow RowFor(const engine::PlannedStep& step, const engine::PlannedAction& action,
                 const engine::PlannedTarget* target, int64_t ordinal) const;
  // Writes the row; false (and lost_) when the lease no longer holds or the database refused.
  bool Write(const UnitRow& row);

  engine::VariableDictionary Variables(const engine::PlannedStep& step,
                                       const engine::PlannedAction& action,
                                       const engine::PlannedTarget* target,
                                       const engine::OutputVariables& outputs);
  void RunGroup(const engine::PlannedGroup& group);
  void RunPlannedStep(const engine::PlannedStep& step, int64_t first_ordinal, bool failed_at_start,
                      StepRun& run);
  UnitEnd RunUnit(const engine::PlannedStep& step, const engine::PlannedAction& action,
                  const engine::PlannedTarget* target, int64_t ordinal, StepRun& run,
                  bool step_failed_on_target);
  UnitEnd RunManual(const engine::PlannedStep& step, const engine::PlannedAction& action,
                    UnitRow row, StepRun& run);
  // The unit failed with `error` (attempt row.attempt): guided failure or Failed. Sets `retry`
  // when the answer was Retry (the caller runs attempt+1). `resumed`: the row is an earlier
  // claim's (Waiting or Running), so its recorded outputs are loaded before an answer other than
  // Retry (which starts afresh) is acted on.
  UnitEnd Failed(const engine::PlannedStep& step, UnitRow row, const std::string& error,
                 bool guided, bool& retry, StepRun& run, bool resumed = false);
  void LoadOutputs(const UnitRow& row, StepRun& run);
  void Record(StepRun& run, const engine::PlannedAction& action,
              const engine::PlannedTarget* target, const std::string& name,
              const std::string& value, bool sensitive, json& stored);
  int64_t UnitsOf(const engine::PlannedStep& step) const;
  void WriteSkipped(const engine::PlannedStep& step, int64_t first_ordinal, const std::string& why);

  tasks::TaskExecution& x_;
  const DeploymentInput& in_;
  const OrchestratorOptions& o_;
  db::Database& db_;
  const tasks::Lease lease_;
  engine::Plan plan_;
  engine::DeploymentFacts facts_;
  std::map<std::string, UnitRow> existing_;
  engine::OutputVariables outputs_;  // the deployment's, between groups

  std::mutex mu_;  // guards the members below
  engine::Masker masker_;
  bool failed_ = false;
  std::string first_error_;
  std::set<std::string> excluded_;  // machine ids dropped by guided failure's Exclude
  // Octopus.Step[<name>].Status.Code / .Error / .ErrorDetail of the steps finished so far (§3.8),
  // in plan order.
  struct StepStatus {
    std::string name, code, error;
  };
  std::vector<StepStatus> step_status_;
  std::vector<NewInterruption> waiting_;
  std::mutex stop_mu_;
  std::atomic<bool> lost_{false}, canceled_{false};
  std::string units_dir_;
};

void Orchestration::Log(LogCategory c, std::string_view text) {
  (void)x_.log().Append(c, Mask(text));
}

std::string Orchestration::Mask(std::string_view text) {
  std::lock_guard lock(mu_);
  return masker_.Apply(text);
}

void Orchestration::AddMask(std::string_view value) {
  std::lock_guard lock(mu_);
  masker_.Add(value);
}

std::string Orchestration::Stop() {
  std::lock_guard lock(stop_mu_);
  std::string why = x_.StopReason();
  if (why == "canceled") {
    canceled_ = true;
  } else if (!why.empty()) {
    lost_ = true;  // lost, fenced, shutting down: write nothing more; another node adopts it
  }
  // A Write() refused (lease gone, database failed): the sibling units' scripts stop too.
  if (why.empty() && lost_) why = "lost";
  return why;
}

bool Orchestration::CanceledWhileHeld() {
  if (Stop() == "canceled") return true;
  if (lost_) return false;
  auto held = tasks::TaskQueue(db_).Held({lease_});
  if (!held || held->empty() || held->front().state != tasks::TaskState::kCancelling) return false;
  canceled_ = true;
  return true;
}

std::string Orchestration::UnitKey(const engine::PlannedStep& step,
                                   const engine::PlannedAction& action,
                                   const engine::PlannedTarget* target) const {
  return fmt::format("{}/{}/{}", step.number, action.id, target ? target->id : "worker");
}

const UnitRow* Orchestration::Existing(const std::string& key) const {
  auto it = existing_.find(key);
  return it == existing_.end() ? nullptr : &it->second;
}

UnitRow Orchestration::RowFor(const engine::PlannedStep& step, const engine::PlannedAction& action,
                              const engine::PlannedTarget* target, int64_t ordinal) const {
  UnitRow row;
  row.task_id = x_.task().id;
  row.unit_key = UnitKey(step, action, target);
  row.ordinal = ordinal;
  row.step_number = step.number;
  row.step_name = step.name;
  row.action_id = action.id;
  row.action_name = action.name;
  if (target) {
    row.machine_id = target->id;
    row.machine_name = target->name;
  }
  if (const UnitRow* e = Existing(row.unit_key)) {
    row.attempt = e->attempt;
    row.state = e->state;
    row.error = e->error;
    row.outputs = e->outputs;
    row.node = e->node;
    row.claim_epoch = e->claim_epoch;
  }
  return row;
}

bool Orchestration::Write(const UnitRow& row) {
  if (lost_) return false;
  auto r = WriteUnit(db_, lease_, row);
  if (r) return true;
  if (r.error().code() != ErrorCode::kLostOwnership) {
    // The database failed: the unit's state is unknown to the cluster, so this node stops here
    // and the task is adopted (or handed back) as if the node had been lost.
    Log(LogCategory::kError,
        fmt::format("Node {} could not record the progress of the deployment: {}", x_.node_name(),
                    r.error().message()));
  }
  lost_ = true;
  return false;
}

engine::VariableDictionary Orchestration::Variables(const engine::PlannedStep& step,
                                                    const engine::PlannedAction& action,
                                                    const engine::PlannedTarget* target,
                                                    const engine::OutputVariables& outputs) {
  engine::SystemFacts facts;
  std::vector<StepStatus> statuses;
  {
    std::lock_guard lock(mu_);
    facts.deployment = facts_;
    statuses = step_status_;
  }
  facts.step = engine::StepFactsFor(step, action);
  if (target) facts.machine = engine::MachineFactsFor(*target);
  engine::VariableDictionary system = engine::SystemVariables(facts);
  // How the earlier steps ended, for a Failure or Always step's script to read (§3.8); the step
  // running now is Running.
  for (const auto& st : statuses) {
    const std::string prefix = fmt::format("Octopus.Step[{}].Status.", st.name);
    system.Set(prefix + "Code", st.code);
    system.Set(prefix + "Error", st.error);
    system.Set(prefix + "ErrorDetail", st.error);
  }
  system.Set("Octopus.Step.Status.Code", "Running");
  return engine::ResolveVariables(in_.variables, outputs,
                                  engine::ScopeFor(in_.request, step, action, target), system);
}

// Every variable evaluated (the values a script reads are final, as Octopus gives them).
engine::VariableDictionary Evaluated(const engine::VariableDictionary& raw,
                                     engine::Evaluator& evaluator) {
  engine::VariableDictionary out;
  for (const auto& [name, v] : raw) {
    auto value = evaluator.EvaluateVariable(v.name);
    out.Set(v.name, value ? *value : v.value, v.sensitive);
  }
  return out;
}

void Orchestration::Record(StepRun& run, const engine::PlannedAction& action,
                           const engine::PlannedTarget* target, const std::string& name,
                           const std::string& value, bool sensitive, json& stored) {
  RecordedOutput r{action.name, target ? target->id : "", target ? target->name : "", name, value,
                   sensitive};
  if (sensitive) AddMask(value);
  {
    std::lock_guard lock(run.mu);
    run.outputs.Record(r.action_name, r.machine_id, r.machine_name, r.name, r.value, sensitive);
    run.recorded.push_back(r);
  }
  json o = {{"Name", name}, {"IsSensitive", sensitive}};
  if (sensitive) {
    o["SealedValue"] = o_.secrets->Seal(value);
  } else {
    o["Value"] = value;
  }
  stored.push_back(std::move(o));
}

void Orchestration::LoadOutputs(const UnitRow& row, StepRun& run) {
  json ignored = json::array();
  engine::PlannedAction action;
  action.name = row.action_name;
  engine::PlannedTarget target;
  target.id = row.machine_id;
  target.name = row.machine_name;
  for (const auto& o : row.outputs) {
    if (!o.is_object()) continue;
    const bool sensitive = core::FlagMember(o, "IsSensitive");
    std::string value;
    if (sensitive) {
      auto opened = o_.secrets->Open(core::StringMember(o, "SealedValue"));
      if (!opened) continue;
      value = *opened;
    } else {
      value = core::StringMember(o, "Value");
    }
    Record(run, action, row.machine_id.empty() ? nullptr : &target, core::StringMember(o, "Name"),
           value, sensitive, ignored);
  }
}

int64_t Orchestration::UnitsOf(const engine::PlannedStep& step) const {
  const size_t targets = step.kind == engine::StepKind::kTargets ? step.targets.size() : 1;
  return static_cast<int64_t>(targets * step.actions.size());
}

void Orchestration::WriteSkipped(const engine::PlannedStep& step, int64_t first_ordinal,
                                 const std::string& why) {
  const bool targets = step.kind == engine::StepKind::kTargets;
  const size_t n = targets ? step.targets.size() : 1;
  int64_t ordinal = first_ordinal;
  for (size_t t = 0; t < n; ++t) {
    for (const auto& action : step.actions) {
      UnitRow row = RowFor(step, action, targets ? &step.targets[t] : nullptr, ordinal++);
      if (IsFinal(row.state)) continue;
      row.state = "Skipped";
      row.error = why;
      if (!Write(row)) return;
    }
  }
}

tasks::TaskOutcome Orchestration::Run() {
  const tasks::Task& task = x_.task();
  for (const auto& v : in_.variables.variables) {
    if (v.sensitive) masker_.Add(v.value);
  }
  auto plan = engine::PlanDeployment(in_.process, in_.request, in_.machines);
  if (!plan) {
    std::string error = plan.error().message();
    for (const auto& d : plan.error().details()) error += "\n" + d;
    Log(LogCategory::kError, error);
    return {.state = tasks::TaskState::kFailed, .error = Mask(plan.error().message())};
  }
  plan_ = std::move(*plan);
  facts_ = in_.facts;
  facts_.task_id = task.id;
  facts_.task_name = task.name;
  engine::AddPlanFacts(plan_, facts_);

  auto units = UnitsOfTask(db_, task.id);
  if (!units) {
    Log(LogCategory::kError,
        "The deployment's progress could not be read: " + units.error().message());
    return tasks::TaskOutcome::HandedOff();  // the lease stays: the reaper or a retry decides
  }
  for (auto& u : *units) existing_.emplace(u.unit_key, std::move(u));
  if (existing_.empty()) {
    for (const auto& w : plan_.warnings) Log(LogCategory::kWarning, w);
    if (plan_.groups.empty()) {
      Log(LogCategory::kInfo, fmt::format("The process of {} has no step to run in {}.", in_.what,
                                          in_.request.environment_name));
    }
  } else {
    Log(LogCategory::kInfo,
        fmt::format("Node {} resumes the deployment (claim {}).", x_.node_name(), lease_.epoch));
  }
  units_dir_ = UnitLogPath(o_.tasklogs_dir, task.id, 0);
  units_dir_ = std::filesystem::path(units_dir_).parent_path().string();
  std::error_code ec;
  std::filesystem::create_directories(units_dir_, ec);

  int64_t ordinal = 0;
  for (const auto& group : plan_.groups) {
    if (Stop(), Stopping()) break;
    std::vector<int64_t> firsts;
    for (const auto& step : group.steps) {
      firsts.push_back(ordinal);
      ordinal += UnitsOf(step);
    }
    const bool failed_at_start = failed_;
    std::vector<std::unique_ptr<StepRun>> runs;
    for (size_t i = 0; i < group.steps.size(); ++i) {
      runs.push_back(std::make_unique<StepRun>());
      runs.back()->outputs = outputs_;  // a step does not see its siblings' outputs
    }
    ParallelFor(group.steps.size(), o_.max_parallel_steps, [&](size_t i) {
      RunPlannedStep(group.steps[i], firsts[i], failed_at_start, *runs[i]);
    });
    for (size_t i = 0; i < runs.size(); ++i) {
      for (const auto& r : runs[i]->recorded) {
        outputs_.Record(r.action_name, r.machine_id, r.machine_name, r.name, r.value, r.sensitive);
      }
      {
        std::lock_guard lock(mu_);
        step_status_.push_back({group.steps[i].name,
                                runs[i]->failed    ? "Failed"
                                : runs[i]->skipped ? "Skipped"
                                : canceled_        ? "Canceled"
                                                   : "Succeeded",
                                runs[i]->failed ? runs[i]->error : ""});
      }
      if (runs[i]->failed && !failed_) {
        failed_ = true;
        first_error_ = runs[i]->error;
        std::lock_guard lock(mu_);
        facts_.error = runs[i]->error;
        facts_.error_detail = runs[i]->error;
      }
    }
    if (lost_) return tasks::TaskOutcome::HandedOff();
    if (canceled_) break;
    if (!waiting_.empty()) {
      (void)x_.log().Flush();
      // The runner records nothing for a task handed off: the park records this claim's
      // warnings and errors (the failed step a guided failure asks about).
      waiting_.front().has_warnings_or_errors = x_.log().has_warnings_or_errors();
      auto raised = RaiseAndPark(db_, lease_, waiting_.front());
      if (!raised) {
        if (raised.error().code() != ErrorCode::kLostOwnership) {
          Log(LogCategory::kError,
              "The deployment could not wait for an answer: " + raised.error().message());
        } else if (CanceledWhileHeld()) {
          // Only an Executing task parks: a cancel that landed just before the park left the
          // lease with this node, so the runner records the cancel (Complete takes Cancelling).
          Log(LogCategory::kWarning, "The deployment was canceled.");
          return {.state = tasks::TaskState::kCanceled, .error = "The task was canceled."};
        }
        return tasks::TaskOutcome::HandedOff();
      }
      if (raised->is_pending) return tasks::TaskOutcome::HandedOff();  // parked
      // Answered meanwhile: walk the plan again from the rows, which now read the answer.
      existing_.clear();
      auto again = UnitsOfTask(db_, task.id);
      if (!again) return tasks::TaskOutcome::HandedOff();
      for (auto& u : *again) existing_.emplace(u.unit_key, std::move(u));
      waiting_.clear();
      failed_ = false;
      first_error_.clear();
      step_status_.clear();
      facts_.error.clear();
      facts_.error_detail.clear();
      outputs_ = engine::OutputVariables();
      return Run();
    }
  }
  if (lost_) return tasks::TaskOutcome::HandedOff();
  if (canceled_) {
    Log(LogCategory::kWarning, "The deployment was canceled.");
    return {.state = tasks::TaskState::kCanceled, .error = "The task was canceled."};
  }
  if (failed_) {
    return {.state = tasks::TaskState::kFailed, .error = Mask(first_error_)};
  }
  return tasks::TaskOutcome::Success();
}

void Orchestration::RunPlannedStep(const engine::PlannedStep& step, int64_t first_ordinal,
                                   bool failed_at_start, StepRun& run) {
  const engine::PlannedAction& first = step.actions.front();
  engine::VariableDictionary step_vars = Variables(step, first, nullptr, run.outputs);
  engine::Evaluator evaluator(step_vars);
  auto truthy = [&](std::string_view expression) {
    auto r = evaluator.EvaluateTruthy(expression);
    return r && *r;
  };
  if (!engine::ShouldRun(step, failed_at_start, truthy)) {
    run.skipped = true;
    WriteSkipped(step, first_ordinal,
                 fmt::format("The step's condition ({}) said not to run it.",
                             step.condition == engine::StepCondition::kVariable ? "a variable"
                             : step.condition == engine::StepCondition::kFailure
                                 ? "run only after a failure"
                                 : "run only while the deployment succeeds"));
    return;
  }
  // Headings only for steps with something left to do (a resumed deployment skips the rest).
  bool pending = false;
  const bool targets = step.kind == engine::StepKind::kTargets;
  const size_t n = targets ? step.targets.size() : 1;
  for (size_t t = 0; t < n && !pending; ++t) {
    for (const auto& action : step.actions) {
      const UnitRow* e = Existing(UnitKey(step, action, targets ? &step.targets[t] : nullptr));
      if (e == nullptr || !IsFinal(e->state)) pending = true;
    }
  }
  if (pending) Log(LogCategory::kInfo, fmt::format("Step {}: {}", step.number, step.name));

  std::optional<std::string> window_var;
  if (auto v = evaluator.EvaluateVariable("Octopus.Action.MaxParallelism")) window_var = *v;
  const size_t window = targets ? engine::TargetWindow(step, window_var) : 1;
  ParallelFor(n, window, [&](size_t t) {
    const engine::PlannedTarget* target = targets ? &step.targets[t] : nullptr;
    bool failed_here = false;
    for (size_t a = 0; a < step.actions.size(); ++a) {
      const int64_t ordinal = first_ordinal + static_cast<int64_t>(t * step.actions.size() + a);
      UnitEnd end = RunUnit(step, step.actions[a], target, ordinal, run, failed_here);
      if (end == UnitEnd::kFailed) failed_here = true;
      if (end == UnitEnd::kWaiting || end == UnitEnd::kLost || end == UnitEnd::kCanceled) break;
    }
  });
}

UnitEnd Orchestration::RunUnit(const engine::PlannedStep& step, const engine::PlannedAction& action,
                               const engine::PlannedTarget* target, int64_t ordinal, StepRun& run,
                               bool step_failed_on_target) {
  UnitRow row = RowFor(step, action, target, ordinal);
  auto fail_step = [&](const std::string& error) {
    std::lock_guard lock(run.mu);
    if (!run.failed) {
      run.failed = true;
      run.error = error;
    }
  };
  // Finished by an earlier claim: its outcome stands.
  if (row.state == "Succeeded") {
    LoadOutputs(row, run);
    return UnitEnd::kSucceeded;
  }
  if (row.state == "Skipped") {
    if (row.error == kExcludedError && target) {
      std::lock_guard lock(mu_);
      excluded_.insert(target->id);
    }
    return UnitEnd::kSkipped;
  }
  if (row.state == "Failed") {
    LoadOutputs(row, run);  // a Failure or Always step may read what it set before failing
    fail_step(row.error);
    return UnitEnd::kFailed;
  }
  if (lost_ || canceled_) return canceled_ ? UnitEnd::kCanceled : UnitEnd::kLost;
  if (target) {
    std::lock_guard lock(mu_);
    if (excluded_.count(target->id) > 0) {
      row.state = "Skipped";
      row.error = kExcludedError;
      return Write(row) ? UnitEnd::kSkipped : UnitEnd::kLost;
    }
  }
  if (action.location == engine::ActionLocation::kManual) {
    UnitEnd end = RunManual(step, action, row, run);
    if (end == UnitEnd::kFailed) fail_step(run.error.empty() ? row.error : run.error);
    return end;
  }

  engine::OutputVariables outputs;
  {
    std::lock_guard lock(run.mu);
    outputs = run.outputs;
  }
  engine::VariableDictionary raw = Variables(step, action, target, outputs);
  engine::Evaluator evaluator(raw);
  const bool guided =
      in_.use_guided_failure || evaluator.EvaluateFlag("Octopus.UseGuidedFailure").value_or(false);
  auto truthy = [&](std::string_view expression) {
    auto r = evaluator.EvaluateTruthy(expression);
    return r && *r;
  };
  if (!engine::ShouldRunAction(action, step_failed_on_target, truthy)) {
    row.state = "Skipped";
    row.error = "The action's condition said not to run it.";
    return Write(row) ? UnitEnd::kSkipped : UnitEnd::kLost;
  }

  // An agent's unit runs as a command row that outlives this node (AgentTarget).
  const bool on_agent = target != nullptr && action.location == engine::ActionLocation::kTarget &&
                        core::EqualsIgnoreCase(target->communication_style, "TentacleActive");
  // A unit an older claim left running: re-run only what is safe to run twice. On an agent the
  // command of that attempt is followed again: its log continues and its result stands.
  bool reattach = false;
  if (row.state == "Running" && on_agent) {
    reattach = true;
  } else if (row.state == "Running") {
    if (core::EqualsIgnoreCase(PropertyText(action.properties, "Cuttle.Action.Idempotent"),
                               "True")) {
      Log(LogCategory::kWarning,
          fmt::format("Node {} running {} was lost; the action is idempotent and runs again.",
                      row.node, action.name));
      row.attempt += 1;
    } else {
      bool retry = false;
      std::string error =
          fmt::format("The node {} running this step was lost.", row.node.empty() ? "?" : row.node);
      Log(LogCategory::kError, fmt::format("{}: {}", action.name, error));
      UnitEnd end = Failed(step, row, error, guided, retry, run, /*resumed=*/true);
      if (!retry) {
        if (end == UnitEnd::kFailed) fail_step(error);
        return end;
      }
      row.attempt += 1;
    }
  } else if (row.state == "Waiting") {
    // A guided-failure prompt raised by an earlier claim: its answer decides.
    bool retry = false;
    UnitEnd end = Failed(step, row, row.error, guided, retry, run, /*resumed=*/true);
    if (!retry) {
      if (end == UnitEnd::kFailed) fail_step(row.error);
      return end;
    }
    row.attempt += 1;
  } else if (row.state == "Canceled") {
    row.attempt += 1;
  }

  for (;;) {
    if (Stop(), Stopping()) return canceled_ ? UnitEnd::kCanceled : UnitEnd::kLost;
    row.state = "Running";
    row.error.clear();
    row.outputs = json::array();
    if (!Write(row)) return UnitEnd::kLost;

    // The unit's own log file, beside the task's.
    tasks::TaskLogWriter unit_log(UnitLogPath(o_.tasklogs_dir, row.task_id, row.ordinal), [this] {
      // Fenced like the task's own log: not once the lease may be
      // gone (lost, fenced, shutting down), even before a poll or a
      // Write() set lost_. StopReason reads the runner's flags (the
      // database only once per fence); a cancel still writes.
      if (lost_) return false;
      const std::string why = x_.StopReason();
      return why.empty() || why == "canceled";
    });
    auto line = [&](LogCategory c, std::string_view text) {
      std::string masked = Mask(text);
      (void)x_.log().Append(c, masked);
      (void)unit_log.Append(c, masked);
    };
    if (!reattach) {
      line(LogCategory::kInfo,
           target ? fmt::format("Executing {} on {}", action.name, target->name)
                  : fmt::format("Executing {} on the built-in worker", action.name));
      if (row.attempt > 1) line(LogCategory::kInfo, fmt::format("Attempt {}", row.attempt));
    }
    reattach = false;  // a Retry after it is a new attempt

    std::string error;
    engine::StepOutcome outcome;
    bool ran = false;
    std::unique_ptr<Target> where;
    if (o_.make_target) {
      where = o_.make_target(x_, target);
    } else if (on_agent) {
      AgentOptions agent;
      agent.db = &db_;
      agent.secrets = o_.secrets;
      agent.packages = o_.packages;
      agent.script_timeout = o_.script_timeout;
      agent.poll = o_.agent_poll;
      agent.cancel_wait = o_.agent_cancel_wait;
      agent.claim_timeout_ms = o_.agent_claim_timeout_ms;
      where = std::make_unique<AgentTarget>(x_, agent, target->id, target->name, row.unit_key,
                                            row.attempt);
    } else if (target == nullptr || core::EqualsIgnoreCase(target->communication_style, "None") ||
               action.location == engine::ActionLocation::kServerForTarget) {
      where = std::make_unique<BuiltInWorker>(x_, o_.packages, o_.worker_home, o_.script_timeout);
    }
    StepRequest request;
    request.variables = Evaluated(raw, evaluator);
    request.env["OCTOPUS_TASK_ID"] = row.task_id;
    request.substitute = [&evaluator](std::string_view text) {
      auto v = evaluator.Evaluate(text);
      return v ? *v : std::string(text);
    };
    if (!where) {
      error = fmt::format(
          "The target {} ({}) cannot be reached: Cuttle runs steps on the built-in worker, on "
          "None targets and on agents (TentacleActive).",
          target ? target->name : "", target ? target->communication_style : "");
    } else if (action.action_type == "Octopus.Script") {
      const std::string source =
          PropertyText(action.properties, "Octopus.Action.Script.ScriptSource");
      const std::string syntax_name =
          PropertyText(action.properties, "Octopus.Action.Script.Syntax");
      auto syntax = syntax_name.empty() ? std::optional(engine::ScriptSyntax::kBash)
                                        : engine::ParseScriptSyntax(syntax_name);
      if (!source.empty() && !core::EqualsIgnoreCase(source, "Inline")) {
        error =
            fmt::format("Scripts from a {} are not supported yet; use an inline script.", source);
      } else if (!syntax) {
        error = fmt::format("{} scripts cannot run on the built-in worker (Bash and Python can).",
                            syntax_name);
      } else {
        request.kind = StepRequest::Kind::kScript;
        request.syntax = *syntax;
        request.script_body = PropertyText(action.properties, "Octopus.Action.Script.ScriptBody");
        ran = true;
      }
    } else if (action.action_type == "Octopus.TentaclePackage") {
      const engine::PlannedPackage* package = nullptr;
      for (const auto& p : action.packages) {
        if (p.name.empty()) package = &p;
      }
      if (package == nullptr && !action.packages.empty()) package = &action.packages.front();
      if (package == nullptr || package->version.empty()) {
        error = "The package step has no package version selected.";
      } else {
        auto path =
            where->Fetch({in_.space_id, package->package_id, package->version, package->feed_id});
        if (!path) {
          error = path.error().message();
        } else {
          line(LogCategory::kInfo, fmt::format("Deploying package {} version {}",
                                               package->package_id, package->version));
          request.kind = StepRequest::Kind::kPackage;
          request.package_path = *path;
          request.package_id = package->package_id;
          request.package_version = package->version;
          ran = true;
        }
      }
    } else {
      error = fmt::format("Steps of type {} are not supported by Cuttle yet.", action.action_type);
    }

    if (ran) {
      engine::StepCallbacks callbacks;
      callbacks.on_line = [&](LogCategory c, std::string_view text) { line(c, text); };
      callbacks.should_stop = [&] {
        (void)unit_log.FlushIfDue();  // a follower of the unit's file sees its lines within 200 ms
        return Stop();
      };
      callbacks.flush = [&]() -> Result<void> {
        CUTTLE_TRY_VOID(x_.log().Flush());
        return unit_log.Flush();
      };
      auto result = where->Run(request, callbacks);
      if (!result) {
        error = result.error().message();
      } else {
        outcome = std::move(*result);
        if (!outcome.killed_reason.empty()) {
          if (lost_) return UnitEnd::kLost;
          if (canceled_) {
            line(LogCategory::kWarning, "The step was canceled.");
            row.state = "Canceled";
            row.error = "The task was canceled.";
            (void)unit_log.Flush();
            return Write(row) ? UnitEnd::kCanceled : UnitEnd::kLost;
          }
          error = outcome.killed_reason;
        } else if (outcome.exit_code != 0) {
          error = !outcome.result_message.empty()
                      ? outcome.result_message
                      : fmt::format("The script returned exit code {}", outcome.exit_code);
        } else if (outcome.wrote_to_stderr &&
                   evaluator.EvaluateFlag("Octopus.Action.FailScriptOnErrorOutput")
                       .value_or(false)) {
          error = "The script wrote to the error stream, and the step fails on error output.";
        }
      }
    }
    json stored = json::array();
    for (const auto& v : outcome.output_variables) {
      Record(run, action, target, v.name, v.value, v.sensitive, stored);
      line(LogCategory::kVerbose, fmt::format("Output variable {} set", v.name));
    }
    row.outputs = stored;
    if (error.empty()) {
      row.state = "Succeeded";
      (void)unit_log.Flush();
      return Write(row) ? UnitEnd::kSucceeded : UnitEnd::kLost;
    }
    line(LogCategory::kError, error);
    (void)unit_log.Flush();
    bool retry = false;
    UnitEnd end = Failed(step, row, Mask(error), guided, retry, run);
    if (!retry) {
      if (end == UnitEnd::kFailed) fail_step(Mask(error));
      return end;
    }
    row.attempt += 1;
  }
}

UnitEnd Orchestration::Failed(const engine::PlannedStep& step, UnitRow row,
                              const std::string& error, bool guided, bool& retry, StepRun& run,
                              bool resumed) {
  retry = false;
  if (guided) {
    auto answered =
        ForUnit(db_, row.task_id, row.unit_key, row.attempt, InterruptionType::kGuidedFailure);
    if (!answered) {
      lost_ = true;
      return UnitEnd::kLost;
    }
    const std::string answer = *answered ? Answer(**answered) : "";
    // Ignore, Exclude, Fail: the attempt's outputs stand, for later steps (and the masker).
    if (resumed && !answer.empty() && answer != "Retry") LoadOutputs(row, run);
    if (answer == "Retry") {
      Log(LogCategory::kInfo, fmt::format("Guided failure: retrying {}.", row.action_name));
      retry = true;
      return UnitEnd::kFailed;
    }
    if (answer == "Ignore") {
      Log(LogCategory::kWarning,
          fmt::format("Guided failure: the failure of {} is ignored.", row.action_name));
      row.state = "Succeeded";
      row.error = "Ignored: " + error;
      return Write(row) ? UnitEnd::kSucceeded : UnitEnd::kLost;
    }
    if (answer == "Exclude") {
      Log(LogCategory::kWarning,
          fmt::format("Guided failure: {} is excluded from the rest of the deployment.",
                      row.machine_name.empty() ? "the built-in worker" : row.machine_name));
      if (!row.machine_id.empty()) {
        std::lock_guard lock(mu_);
        excluded_.insert(row.machine_id);
      }
      row.state = "Skipped";
      row.error = kExcludedError;
      return Write(row) ? UnitEnd::kSkipped : UnitEnd::kLost;
    }
    if (answer.empty()) {
      row.state = "Waiting";
      row.error = error;
      if (!Write(row)) return UnitEnd::kLost;
      NewInterruption n;
      n.space_id = in_.space_id;
      n.task_id = row.task_id;
      n.unit_key = row.unit_key;
      n.attempt = row.attempt;
      n.type = InterruptionType::kGuidedFailure;
      n.title = fmt::format("Step {}: {} failed{}", step.number, step.name,
                            row.machine_name.empty() ? "" : " on " + row.machine_name);
      n.details = {{"CanIgnore", !step.required},
                   {"Error", error},
                   {"StepName", step.name},
                   {"ActionName", row.action_name},
                   {"MachineName", row.machine_name},
                   {"RelatedDocumentIds", json::array({in_.document_id, row.task_id})}};
      Log(LogCategory::kWait, fmt::format("Guided failure: waiting for Retry, Ignore, Exclude or "
                                          "Fail on {}.",
                                          row.action_name));
      std::lock_guard lock(mu_);
      waiting_.push_back(std::move(n));
      return UnitEnd::kWaiting;
    }
    // Fail: the failure stands.
  } else if (resumed) {
    LoadOutputs(row, run);
  }
  row.state = "Failed";
  row.error = error;
  return Write(row) ? UnitEnd::kFailed : UnitEnd::kLost;
}

UnitEnd Orchestration::RunManual(const engine::PlannedStep& step,
                                 const engine::PlannedAction& action, UnitRow row, StepRun& run) {
  if (row.state == "Waiting") {
    auto found =
        ForUnit(db_, row.task_id, row.unit_key, row.attempt, InterruptionType::kManualIntervention);
    if (!found) {
      lost_ = true;
      return UnitEnd::kLost;
    }
    const std::string answer = *found ? Answer(**found) : "";
    if (answer == "Proceed" || answer == "Abort") {
      const Interruption& i = **found;
      const std::string notes = core::StringMember(i.result, "Notes");
      const std::string who =
          i.responsible_user_id.empty() ? i.submitted_by : i.responsible_user_id;
      json stored = json::array();
      Record(run, action, nullptr, "Manual.Notes", notes, false, stored);
      Record(run, action, nullptr, "Manual.Approved", answer == "Proceed" ? "True" : "False", false,
             stored);
      Record(run, action, nullptr, "Manual.ResponsibleUser.Id", who, false, stored);
      row.outputs = stored;
      if (answer == "Proceed") {
        Log(LogCategory::kInfo, fmt::format("{}: {} proceeded.", action.name, who));
        row.state = "Succeeded";
        return Write(row) ? UnitEnd::kSucceeded : UnitEnd::kLost;
      }
      std::string error = fmt::format("The manual step {} was aborted by {}.", action.name, who);
      Log(LogCategory::kError, error);
      row.state = "Failed";
      row.error = error;
      {
        std::lock_guard lock(run.mu);
        if (!run.failed) run.error = error;
      }
      return Write(row) ? UnitEnd::kFailed : UnitEnd::kLost;
    }
  } else {
    row.state = "Waiting";
    row.error.clear();
    if (!Write(row)) return UnitEnd::kLost;
  }
  NewInterruption n;
  n.space_id = in_.space_id;
  n.task_id = row.task_id;
  n.unit_key = row.unit_key;
  n.attempt = row.attempt;
  n.type = InterruptionType::kManualIntervention;
  n.title = fmt::format("Step {}: {}", step.number, step.name);
  json teams = json::array();
  for (const auto& t : action.responsible_team_ids) teams.push_back(t);
  n.details = {{"Instructions", action.instructions},
               {"ResponsibleTeamIds", teams},
               {"StepName", step.name},
               {"ActionName", action.name},
               {"RelatedDocumentIds", json::array({in_.document_id, row.task_id})}};
  Log(LogCategory::kWait, fmt::format("Waiting for manual intervention: {}", step.name));
  if (!action.instructions.empty()) Log(LogCategory::kInfo, action.instructions);
  std::lock_guard lock(mu_);
  waiting_.push_back(std::move(n));
  return UnitEnd::kWaiting;
}

}  // namespace

tasks::TaskOutcome RunDeployment(tasks::TaskExecution& execution, const DeploymentInput& input,
                                 const OrchestratorOptions& options) {
  Orchestration run(execution, input, options);
  return run.Run();
}

}  // namespace cuttle::deploy
