#include "deploy/units.h"

#include <fmt/format.h>

#include "core/json.h"
#include "core/strings.h"
#include "repo/page.h"
#include "tasks/task_log.h"

namespace cuttle::deploy {

namespace {

constexpr const char* kColumns =
    "task_id, unit_key, ordinal, step_number, step_name, action_id, action_name, machine_id, "
    "machine_name, state, attempt, node, claim_epoch, started, ended, error, outputs";

UnitRow ReadUnit(const db::Row& r) {
  UnitRow u;
  u.task_id = r.GetString("task_id");
  u.unit_key = r.GetString("unit_key");
  u.ordinal = r.GetInt("ordinal");
  u.step_number = r.GetInt("step_number");
  u.step_name = r.GetString("step_name");
  u.action_id = r.GetString("action_id");
  u.action_name = r.GetString("action_name");
  u.machine_id = r.GetString("machine_id");
  u.machine_name = r.GetString("machine_name");
  u.state = r.GetString("state");
  u.attempt = r.GetInt("attempt");
  u.node = r.GetString("node");
  u.claim_epoch = r.GetInt("claim_epoch");
  u.started = r.GetOptionalInt("started");
  u.ended = r.GetOptionalInt("ended");
  u.error = r.GetString("error");
  u.outputs = core::ParseJson(r.GetString("outputs")).value_or(nlohmann::json::array());
  if (!u.outputs.is_array()) u.outputs = nlohmann::json::array();
  return u;
}

}  // namespace

Result<std::vector<UnitRow>> UnitsOfTask(db::Database& db, const std::string& task_id) {
  CUTTLE_TRY(auto rs, db.Execute(std::string("SELECT ") + kColumns +
                                     " FROM deployment_units WHERE task_id = $1 ORDER BY ordinal",
                                 {task_id}));
  std::vector<UnitRow> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) out.push_back(ReadUnit(r));
  return out;
}

Result<void> WriteUnit(db::Database& db, const tasks::Lease& lease, const UnitRow& row) {
  repo::Where fence;
  tasks::AddLeaseHeld(fence, lease);
  db::Params params = fence.params();
  const size_t first = fence.next_parameter();
  for (db::Value v :
       {db::Value(row.task_id), db::Value(row.unit_key), db::Value(row.ordinal),
        db::Value(row.step_number), db::Value(row.step_name), db::Value(row.action_id),
        db::Value(row.action_name), db::Value(row.machine_id), db::Value(row.machine_name),
        db::Value(row.state), db::Value(row.attempt), db::Value(lease.node), db::Value(lease.epoch),
        row.error.empty() ? db::Value(std::monostate{}) : db::Value(row.error),
        db::Value(core::DumpJson(row.outputs))}) {
    params.push_back(std::move(v));
  }
  // Typed: PostgreSQL cannot infer a parameter's type from an INSERT's SELECT list.
  auto p = [&](size_t i) {
    const bool number = i == 2 || i == 3 || i == 10 || i == 12;
    return fmt::format("CAST(${} AS {})", first + i, number ? "BIGINT" : "TEXT");
  };
  const bool running = row.state == "Running";
  const bool pending = row.state == "Pending";
  // A unit waits for an answer once it has started: a manual step's first row is Waiting (it
  // never runs), so that row starts it; a failed unit waiting for guidance keeps its start.
  const bool waiting = row.state == "Waiting";
  const std::string started = running || waiting ? "now_ms()" : "NULL";
  const std::string ended = running || pending || waiting ? "NULL" : "now_ms()";
  const std::string update_started = running   ? "now_ms()"
                                     : pending ? "NULL"
                                     : waiting ? "COALESCE(deployment_units.started, now_ms())"
                                               : "deployment_units.started";
  std::string sql = fmt::format(
      "INSERT INTO deployment_units (task_id, unit_key, ordinal, step_number, step_name, "
      "action_id, action_name, machine_id, machine_name, state, attempt, node, claim_epoch, "
      "started, ended, error, outputs) SELECT {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
      "{}, {}, {}, {} WHERE EXISTS (SELECT 1 FROM server_tasks{}) ON CONFLICT (task_id, "
      "unit_key) DO UPDATE SET ordinal = excluded.ordinal, step_number = excluded.step_number, "
      "step_name = excluded.step_name, action_id = excluded.action_id, action_name = "
      "excluded.action_name, machine_id = excluded.machine_id, machine_name = "
      "excluded.machine_name, state = excluded.state, attempt = excluded.attempt, node = "
      "excluded.node, claim_epoch = excluded.claim_epoch, started = {}, ended = {}, error = "
      "excluded.error, outputs = excluded.outputs RETURNING unit_key",
      p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12), started,
      ended, p(13), p(14), fence.Sql(), update_started, ended);
  CUTTLE_TRY(auto rs, db.Execute(sql, params));
  if (rs.empty()) {
    return Fail(Error::LostOwnership(fmt::format("{} is no longer executed by {} (claim {})",
                                                 lease.task_id, lease.node, lease.epoch)));
  }
  return {};
}

std::string UnitLogPath(const std::string& tasklogs_root, const std::string& task_id,
                        int64_t ordinal) {
  return tasks::TaskUnitLogDir(tasklogs_root, task_id) + "/" + std::to_string(ordinal) + ".log";
}

}  // namespace cuttle::deploy
