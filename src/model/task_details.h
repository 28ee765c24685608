// The activity tree of /api/tasks/{id}/details (ServerTaskDetails.ActivityLogs,
// reference-octopus-api.md §2.10; docs/engine.md, "The interruptions API and the details tree").
// Pure: built from the task, its log text, its deployment_units rows and each unit's log text, so
// it is tested without HTTP or storage. Thread-safe.
//
// A task without units keeps the flat shape: one activity holding every log line. A deployment's
// tree is the task's root activity, one child per step ("Step N: <name>", in plan order) and, under
// each step, one child per unit (per target, or per action on the built-in worker).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/units.h"
#include "tasks/task_queue.h"

namespace cuttle::model {

struct DetailsInput {
  const tasks::Task& task;
  std::string_view task_log;  // the task's whole log (tasks::ReadTaskLog)
  // In plan order (deploy::UnitsOfTask), and each unit's log text, index for index ("" when the
  // unit has not logged yet).
  const std::vector<deploy::UnitRow>& units;
  const std::vector<std::string>& unit_logs;
  // Only the last `tail` log elements of each activity (the `tail` query parameter).
  std::optional<int64_t> tail;
  // With tail == 0 the tree needs only whether each log has a warning line: a caller that knows
  // (tasks::WarningScanCache) passes it here and the logs' text may be left empty.
  std::optional<bool> task_warnings;
  const std::vector<bool>* unit_warnings = nullptr;  // index for index with `units`
};

struct Details {
  nlohmann::json activity_logs = nlohmann::json::array();  // ActivityLogs: [root]
  int progress_percentage = 0;
};

Details BuildTaskDetails(const DetailsInput& in);

// An ActivityStatus for a unit's state ("Succeeded" -> "Success", "Waiting" -> "Running", ...),
// given whether its log has warnings or errors and whether its task has finished (a unit a finished
// task left Running or Waiting ends Canceled or Failed with it).
std::string UnitActivityStatus(const deploy::UnitRow& unit, bool warnings, const tasks::Task& task);
// A step's status from its units' statuses: Running if any runs; else Failed, then Canceled, if
// any; Pending if none has started; Skipped if all were skipped; SuccessWithWarning or Success once
// all are done; a step some of whose units are still pending is Running while the task runs.
std::string StepActivityStatus(const std::vector<std::string>& unit_statuses,
                               const tasks::Task& task);

}  // namespace cuttle::model
