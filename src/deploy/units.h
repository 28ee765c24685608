// The durable progress of a Deploy or RunbookRun task: one row per unit of work in
// deployment_units (migration 0012; the rules of who writes what and when are in docs/engine.md,
// "What is persisted"). The orchestrator writes them, fenced on the task's lease; the API reads
// them for /api/tasks/{id}/details.
//
// Each unit also logs to a file of its own beside the task's log (UnitLogPath), with the task
// log's line format, so the /details tree can show a unit's lines under its activity; every line
// is in the task's log as well, so /raw and a follower reading by offset see the whole deployment.
//
// Thread-safe (stateless over the Database).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "tasks/task_queue.h"

namespace cuttle::deploy {

// Pending, Running, Succeeded, Failed, Skipped, Canceled; Waiting while an interruption about the
// unit (a manual step, guided failure) is pending.
struct UnitRow {
  std::string task_id;
  std::string unit_key;  // "<step number>/<action id>/<machine id or 'worker'>"
  int64_t ordinal = 0;   // place in plan order
  int64_t step_number = 0;
  std::string step_name;
  std::string action_id;
  std::string action_name;
  std::string machine_id;    // "" on the built-in worker
  std::string machine_name;  // "" on the built-in worker
  std::string state;
  int64_t attempt = 1;
  std::string node;
  int64_t claim_epoch = 0;
  std::optional<int64_t> started, ended;  // Unix ms, database clock
  std::string error;
  // [{Name, Value | SealedValue, IsSensitive}]
  nlohmann::json outputs = nlohmann::json::array();
};

// The units of a task in plan order (by ordinal); empty for a task that has none (yet).
Result<std::vector<UnitRow>> UnitsOfTask(db::Database& db, const std::string& task_id);

// Writes (inserts or replaces) a unit's row as `row` says — state, attempt, error, outputs and
// the plan fields — stamped with the lease's node and claim epoch, in one statement fenced on the
// lease (tasks::AddLeaseHeld on a sub-select of server_tasks): a node that lost the task writes
// nothing and gets kLostOwnership. `Running` sets `started` (database clock) and clears `ended`;
// `Pending` clears both; `Waiting` (not final) clears `ended` and sets `started` unless it is
// set (a manual step starts when it starts waiting, and keeps that start when it is answered);
// any other state sets `ended` and keeps `started`. The caller seals sensitive output values
// first (outputs are stored as given).
Result<void> WriteUnit(db::Database& db, const tasks::Lease& lease, const UnitRow& row);

// "<root>/<task id lower-cased>.units/<ordinal>.log", beside tasks::TaskLogPath's file.
std::string UnitLogPath(const std::string& tasklogs_root, const std::string& task_id,
                        int64_t ordinal);

}  // namespace cuttle::deploy
