#include "model/task_details.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "core/strings.h"
#include "model/task.h"
#include "tasks/task_log.h"

namespace cuttle::model {

using nlohmann::json;

namespace {

// How far apart the task log's copy of a unit line may be stamped.
constexpr int64_t kSameLineMs = 1000;

bool IsWarning(const tasks::LogElement& e) {
  return e.category == "Warning" || e.category == "Error" || e.category == "Fatal";
}

json Elements(const std::vector<tasks::LogElement>& elements, std::optional<int64_t> tail) {
  size_t from = 0;
  if (tail && *tail >= 0 && static_cast<size_t>(*tail) < elements.size()) {
    from = elements.size() - static_cast<size_t>(*tail);
  }
  json out = json::array();
  for (size_t i = from; i < elements.size(); ++i) {
    const auto& e = elements[i];
    out.push_back({{"Category", e.category},
                   {"OccurredAt", e.occurred_at},
                   {"MessageText", e.message},
                   {"Detail", nullptr}});
  }
  return out;
}

bool IsFinalUnit(const std::string& state) {
  return state == "Succeeded" || state == "Failed" || state == "Skipped" || state == "Canceled";
}

std::string TaskStatus(const tasks::Task& task, bool warnings) {
  switch (ShownState(task)) {
    case tasks::TaskState::kQueued:
      return "Pending";
    case tasks::TaskState::kExecuting:
    case tasks::TaskState::kCancelling:
      return "Running";
    case tasks::TaskState::kSuccess:
      return warnings ? "SuccessWithWarning" : "Success";
    case tasks::TaskState::kCanceled:
      return "Canceled";
    default:
      return "Failed";
  }
}

json Activity(std::string id, std::string name, json started, json ended, std::string status,
              int progress, json elements, json children) {
  return {{"Id", std::move(id)},
          {"Name", std::move(name)},
          {"Started", std::move(started)},
          {"Ended", std::move(ended)},
          {"Status", std::move(status)},
          {"ShowAtSummaryLevel", true},
          {"ProgressPercentage", progress},
          {"ProgressMessage", ""},
          {"LogElements", std::move(elements)},
          {"Children", std::move(children)}};
}

}  // namespace

std::string UnitActivityStatus(const deploy::UnitRow& unit, bool warnings,
                               const tasks::Task& task) {
  const std::string& s = unit.state;
  if (s == "Succeeded") return warnings ? "SuccessWithWarning" : "Success";
  if (s == "Failed") return "Failed";
  if (s == "Skipped") return "Skipped";
  if (s == "Canceled") return "Canceled";
  if (s == "Running" || s == "Waiting") {
    if (!tasks::IsFinal(task.state)) return "Running";
    return task.state == tasks::TaskState::kCanceled ? "Canceled" : "Failed";
  }
  return "Pending";
}

std::string StepActivityStatus(const std::vector<std::string>& statuses, const tasks::Task& task) {
  auto any = [&](const char* s) {
    return std::find(statuses.begin(), statuses.end(), s) != statuses.end();
  };
  auto all = [&](auto pred) { return std::all_of(statuses.begin(), statuses.end(), pred); };
  if (any("Running")) return "Running";
  if (any("Failed")) return "Failed";
  if (any("Canceled")) return "Canceled";
  if (statuses.empty() || all([](const std::string& s) { return s == "Pending"; })) {
    return "Pending";
  }
  if (all([](const std::string& s) { return s == "Skipped"; })) return "Skipped";
  if (any("Pending")) return tasks::IsFinal(task.state) ? "Success" : "Running";
  return any("SuccessWithWarning") ? "SuccessWithWarning" : "Success";
}

Details BuildTaskDetails(const DetailsInput& in) {
  const tasks::Task& task = in.task;
  const bool done = tasks::IsFinal(task.state);
  // tail=0 asks for the tree alone (the portal polls it every second while a task runs): the logs
  // are only scanned for warnings, never parsed into elements or matched unit to task.
  const bool tree_only = in.tail && *in.tail == 0;
  std::vector<tasks::LogElement> task_elements;
  if (!tree_only) task_elements = tasks::ParseLog(in.task_log);
  bool task_warnings =
      tree_only ? (in.task_warnings ? *in.task_warnings : tasks::HasWarningLine(in.task_log))
                : std::any_of(task_elements.begin(), task_elements.end(), IsWarning);
  Details out;
  if (in.units.empty()) {
    out.progress_percentage = done ? 100 : 0;
    out.activity_logs.push_back(
        Activity(task.id, task.description.empty() ? task.name : task.description,
                 IsoOrNullJson(task.start_time), IsoOrNullJson(task.completed_time),
                 TaskStatus(task, task_warnings), out.progress_percentage,
                 Elements(task_elements, in.tail), json::array()));
    return out;
  }

  // Every unit line is in the task's log too (deploy/units.h), written by a second call a moment
  // later, so its time may differ by a millisecond or so. The root keeps the task lines no unit
  // wrote: each unit's lines are matched, in their order, to unclaimed task lines of the same
  // category and text at most kSameLineMs apart.
  std::vector<std::vector<tasks::LogElement>> unit_elements;
  std::vector<bool> claimed(task_elements.size(), false);
  std::vector<std::optional<int64_t>> task_times;
  for (const auto& e : task_elements) task_times.push_back(core::ParseIso8601(e.occurred_at));
  std::vector<bool> unit_warnings;
  for (size_t i = 0; i < in.units.size(); ++i) {
    const std::string_view unit_log =
        i < in.unit_logs.size() ? std::string_view(in.unit_logs[i]) : "";
    if (tree_only) {
      unit_elements.emplace_back();
      unit_warnings.push_back(in.unit_warnings && i < in.unit_warnings->size()
                                  ? (*in.unit_warnings)[i]
                                  : tasks::HasWarningLine(unit_log));
      continue;
    }
    unit_elements.push_back(tasks::ParseLog(unit_log));
    unit_warnings.push_back(
        std::any_of(unit_elements.back().begin(), unit_elements.back().end(), IsWarning));
    size_t from = 0;  // a unit's lines come in the task's log in the same order
    for (const auto& e : unit_elements.back()) {
      const auto at = core::ParseIso8601(e.occurred_at);
      for (size_t j = from; j < task_elements.size(); ++j) {
        const auto& t = task_elements[j];
        if (claimed[j] || t.category != e.category || t.message != e.message) continue;
        if (at && task_times[j] && std::abs(*task_times[j] - *at) > kSameLineMs) continue;
        claimed[j] = true;
        from = j + 1;
        break;
      }
    }
  }
  std::vector<tasks::LogElement> root_elements;
  for (size_t j = 0; j < task_elements.size(); ++j) {
    if (!claimed[j]) root_elements.push_back(std::move(task_elements[j]));
  }

  // Steps in the order their first unit comes in the plan.
  std::vector<int64_t> step_order;
  std::map<int64_t, std::vector<size_t>> step_units;
  std::map<int64_t, std::set<std::string>> step_actions;
  for (size_t i = 0; i < in.units.size(); ++i) {
    const auto& u = in.units[i];
    if (!step_units.contains(u.step_number)) step_order.push_back(u.step_number);
    step_units[u.step_number].push_back(i);
    step_actions[u.step_number].insert(u.action_id);
  }

  size_t finished_units = 0;
  json steps = json::array();
  for (int64_t step : step_order) {
    const auto& indexes = step_units[step];
    const bool multi_action = step_actions[step].size() > 1;
    json children = json::array();
    std::vector<std::string> statuses;
    std::optional<int64_t> started, ended;
    bool all_final = true;
    size_t step_finished = 0;
    for (size_t i : indexes) {
      const auto& u = in.units[i];
      const auto& elements = unit_elements[i];
      std::string status = UnitActivityStatus(u, unit_warnings[i], task);
      const bool final_unit = IsFinalUnit(u.state);
      all_final = all_final && final_unit;
      if (final_unit) ++step_finished;
      if (u.started && (!started || *u.started < *started)) started = u.started;
      if (u.ended && (!ended || *u.ended > *ended)) ended = u.ended;
      std::string name;
      if (u.machine_name.empty()) {
        name = u.action_name;
      } else if (multi_action) {
        name = u.action_name + " on " + u.machine_name;
      } else {
        name = u.machine_name;
      }
      children.push_back(Activity(task.id + "/" + u.unit_key, std::move(name),
                                  IsoOrNullJson(u.started), IsoOrNullJson(u.ended), status,
                                  final_unit ? 100 : 0, Elements(elements, in.tail),
                                  json::array()));
      statuses.push_back(std::move(status));
    }
    finished_units += step_finished;
    const auto& first = in.units[indexes.front()];
    steps.push_back(Activity(
        task.id + "/" + std::to_string(step),
        std::string("Step ") + std::to_string(step) + ": " + first.step_name,
        IsoOrNullJson(started), all_final ? IsoOrNullJson(ended) : json(nullptr),
        StepActivityStatus(statuses, task), static_cast<int>(step_finished * 100 / indexes.size()),
        json::array(), std::move(children)));
  }
  out.progress_percentage = done ? 100 : static_cast<int>(finished_units * 100 / in.units.size());
  for (bool w : unit_warnings) task_warnings = task_warnings || w;
  out.activity_logs.push_back(
      Activity(task.id, task.description.empty() ? task.name : task.description,
               IsoOrNullJson(task.start_time), IsoOrNullJson(task.completed_time),
               TaskStatus(task, task_warnings), out.progress_percentage,
               Elements(root_elements, in.tail), std::move(steps)));
  return out;
}

}  // namespace cuttle::model
