#include "deploy/units.h"

#include "core/json.h"
#include "core/strings.h"

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

std::string UnitLogPath(const std::string& tasklogs_root, const std::string& task_id,
                        int64_t ordinal) {
  return tasklogs_root + "/" + core::ToLower(task_id) + ".units/" + std::to_string(ordinal) +
         ".log";
}

}  // namespace cuttle::deploy
