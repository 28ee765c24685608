// The /details activity tree (model/task_details.h): the flat shape for tasks without units; for a
// deployment one activity per step and per unit, with statuses, times, progress and each unit's
// own log lines.
#include "model/task_details.h"

#include <gtest/gtest.h>

namespace cuttle::model {
namespace {

using nlohmann::json;

constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15T08:00:00.000Z

std::string Line(const char* time, const char* category, const char* text) {
  return std::string("2027-01-15T08:00:") + time + "+00:00 " + category + " | " + text + "\n";
}

tasks::Task DeployTask(tasks::TaskState state) {
  tasks::Task t;
  t.id = "ServerTasks-5";
  t.name = "Deploy";
  t.description = "Deploy Web 1.0.0 to Dev";
  t.state = state;
  t.queue_time = kT0;
  t.start_time = kT0;
  if (tasks::IsFinal(state)) t.completed_time = kT0 + 9'000;
  return t;
}

deploy::UnitRow Unit(int64_t ordinal, int64_t step, std::string step_name, std::string action,
                     std::string machine, std::string state) {
  deploy::UnitRow u;
  u.task_id = "ServerTasks-5";
  u.ordinal = ordinal;
  u.step_number = step;
  u.step_name = std::move(step_name);
  u.action_id = "Actions-" + action;
  u.action_name = "Action " + action;
  u.machine_id = machine.empty() ? "" : "Machines-" + machine;
  u.machine_name = machine.empty() ? "" : "web-" + machine;
  u.unit_key = std::to_string(step) + "/" + u.action_id + "/" +
               (machine.empty() ? std::string("worker") : u.machine_id);
  u.state = std::move(state);
  return u;
}

std::vector<std::string> Messages(const json& activity) {
  std::vector<std::string> out;
  for (const auto& e : activity["LogElements"]) out.push_back(e["MessageText"]);
  return out;
}

TEST(TaskDetailsTest, ATaskWithoutUnitsKeepsOneFlatActivity) {
  auto task = DeployTask(tasks::TaskState::kSuccess);
  task.name = "AdHocScript";
  task.description = "";
  std::string log = Line("01.000", "Info     ", "hello") + Line("02.000", "Warning  ", "careful");
  std::vector<deploy::UnitRow> units;
  std::vector<std::string> logs;
  auto d = BuildTaskDetails({.task = task, .task_log = log, .units = units, .unit_logs = logs});
  ASSERT_EQ(d.activity_logs.size(), 1u);
  const json& root = d.activity_logs[0];
  EXPECT_EQ(root["Id"], "ServerTasks-5");
  EXPECT_EQ(root["Name"], "AdHocScript");
  EXPECT_EQ(root["Status"], "SuccessWithWarning");
  EXPECT_EQ(Messages(root), (std::vector<std::string>{"hello", "careful"}));
  EXPECT_EQ(root["Children"], json::array());
  EXPECT_EQ(d.progress_percentage, 100);
  auto tailed = BuildTaskDetails(
      {.task = task, .task_log = log, .units = units, .unit_logs = logs, .tail = 1});
  EXPECT_EQ(Messages(tailed.activity_logs[0]), std::vector<std::string>{"careful"});
}

TEST(TaskDetailsTest, ADeploymentHasOneActivityPerStepAndPerUnitWithTheirOwnLines) {
  auto task = DeployTask(tasks::TaskState::kExecuting);
  std::vector<deploy::UnitRow> units = {
      Unit(0, 1, "Hello", "1", "", "Succeeded"),
      Unit(1, 2, "Web", "2", "1", "Succeeded"),
      Unit(2, 2, "Web", "2", "2", "Running"),
      Unit(3, 3, "Approve", "3", "", "Pending"),
  };
  units[0].started = kT0 + 1'000;
  units[0].ended = kT0 + 2'000;
  units[1].started = kT0 + 3'000;
  units[1].ended = kT0 + 4'000;
  units[2].started = kT0 + 2'500;
  std::vector<std::string> unit_logs = {
      Line("01.100", "Info     ", "hello from step 1"),
      Line("03.100", "Info     ", "deploying to web-1") + Line("03.200", "Warning  ", "slow disk"),
      Line("02.600", "Info     ", "deploying to web-2"),
      "",
  };
  // The task's log holds every unit line too (stamped by a second call: a millisecond later,
  // sometimes), and lines of its own, one of them with a unit line's text seconds earlier.
  std::string task_log = Line("00.500", "Info     ", "Deploying Web 1.0.0") +
                         Line("00.600", "Info     ", "deploying to web-1") +
                         Line("01.101", "Info     ", "hello from step 1") + unit_logs[2] +
                         unit_logs[1];
  auto d = BuildTaskDetails(
      {.task = task, .task_log = task_log, .units = units, .unit_logs = unit_logs});
  ASSERT_EQ(d.activity_logs.size(), 1u);
  const json& root = d.activity_logs[0];
  EXPECT_EQ(root["Name"], "Deploy Web 1.0.0 to Dev");
  EXPECT_EQ(root["Status"], "Running");
  EXPECT_EQ(Messages(root), (std::vector<std::string>{"Deploying Web 1.0.0", "deploying to web-1"}))
      << "the root keeps only the lines no unit wrote";
  EXPECT_EQ(d.progress_percentage, 50) << "two of four units finished";
  EXPECT_EQ(root["ProgressPercentage"], 50);

  const json& steps = root["Children"];
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0]["Name"], "Step 1: Hello");
  EXPECT_EQ(steps[0]["Id"], "ServerTasks-5/1");
  EXPECT_EQ(steps[0]["Status"], "Success");
  EXPECT_EQ(steps[0]["Started"], "2027-01-15T08:00:01.000+00:00");
  EXPECT_EQ(steps[0]["Ended"], "2027-01-15T08:00:02.000+00:00");
  EXPECT_EQ(steps[0]["ProgressPercentage"], 100);
  ASSERT_EQ(steps[0]["Children"].size(), 1u);
  const json& worker = steps[0]["Children"][0];
  EXPECT_EQ(worker["Name"], "Action 1") << "on the built-in worker: the action's name";
  EXPECT_EQ(worker["Id"], "ServerTasks-5/1/Actions-1/worker");
  EXPECT_EQ(Messages(worker), std::vector<std::string>{"hello from step 1"});

  EXPECT_EQ(steps[1]["Name"], "Step 2: Web");
  EXPECT_EQ(steps[1]["Status"], "Running");
  EXPECT_EQ(steps[1]["Started"], "2027-01-15T08:00:02.500+00:00") << "its earliest unit's start";
  EXPECT_TRUE(steps[1]["Ended"].is_null()) << "a unit still runs";
  EXPECT_EQ(steps[1]["ProgressPercentage"], 50);
  ASSERT_EQ(steps[1]["Children"].size(), 2u);
  const json& web1 = steps[1]["Children"][0];
  EXPECT_EQ(web1["Name"], "web-1");
  EXPECT_EQ(web1["Status"], "SuccessWithWarning");
  EXPECT_EQ(web1["ProgressPercentage"], 100);
  EXPECT_EQ(Messages(web1), (std::vector<std::string>{"deploying to web-1", "slow disk"}));
  const json& web2 = steps[1]["Children"][1];
  EXPECT_EQ(web2["Status"], "Running");
  EXPECT_TRUE(web2["Ended"].is_null());
  EXPECT_EQ(web2["ProgressPercentage"], 0);

  EXPECT_EQ(steps[2]["Status"], "Pending");
  EXPECT_TRUE(steps[2]["Started"].is_null());
  EXPECT_EQ(steps[2]["Children"][0]["LogElements"], json::array());
}

// tail=0 (the portal's step tree, polled every second) scans the logs for warnings only: the tree,
// statuses included, is the full answer's with every activity's lines left out.
TEST(TaskDetailsTest, TailZeroIsTheSameTreeWithoutLines) {
  std::vector<deploy::UnitRow> units = {
      Unit(0, 1, "Hello", "1", "", "Succeeded"),
      Unit(1, 2, "Web", "2", "1", "Succeeded"),
      Unit(2, 2, "Web", "2", "2", "Running"),
  };
  std::vector<std::string> unit_logs = {
      Line("01.100", "Info     ", "hello") + "a line without a category | at all\n",
      Line("03.100", "Info     ", "deploying") + Line("03.200", "Error    ", "slow disk"),
      Line("02.600", "Verbose  ", "Warning | not a category: the message says it"),
  };
  std::string task_log = Line("00.500", "Info     ", "start") + unit_logs[0] + unit_logs[2] +
                         unit_logs[1] + Line("05.000", "Fatal    ", "the root's own");
  auto strip = [](json j, auto& self) -> json {
    if (j.contains("LogElements")) j["LogElements"] = json::array();
    for (auto& c : j["Children"]) c = self(c, self);
    return j;
  };
  for (auto state : {tasks::TaskState::kExecuting, tasks::TaskState::kSuccess}) {
    auto task = DeployTask(state);
    auto full = BuildTaskDetails(
        {.task = task, .task_log = task_log, .units = units, .unit_logs = unit_logs});
    auto tree = BuildTaskDetails(
        {.task = task, .task_log = task_log, .units = units, .unit_logs = unit_logs, .tail = 0});
    ASSERT_EQ(tree.activity_logs.size(), 1u);
    EXPECT_EQ(tree.activity_logs[0], strip(full.activity_logs[0], strip));
    EXPECT_EQ(tree.progress_percentage, full.progress_percentage);
    EXPECT_EQ(tree.activity_logs[0]["Children"][1]["Children"][0]["Status"], "SuccessWithWarning")
        << "the unit's Error line counts, scanned from the raw log";
  }
  // Without units: the flat activity's status still sees the warning.
  auto adhoc = DeployTask(tasks::TaskState::kSuccess);
  const std::vector<deploy::UnitRow> no_units;
  const std::vector<std::string> no_logs;
  auto flat = BuildTaskDetails({.task = adhoc,
                                .task_log = Line("01.000", "Warning  ", "w"),
                                .units = no_units,
                                .unit_logs = no_logs,
                                .tail = 0});
  EXPECT_EQ(flat.activity_logs[0]["Status"], "SuccessWithWarning");
  EXPECT_EQ(flat.activity_logs[0]["LogElements"], json::array());
}

TEST(TaskDetailsTest, AWaitingUnitRunsWhileParkedAndEndsWithItsTask) {
  auto task = DeployTask(tasks::TaskState::kQueued);
  task.parked = true;
  std::vector<deploy::UnitRow> units = {Unit(0, 1, "Approve", "1", "", "Waiting")};
  std::vector<std::string> logs = {""};
  auto parked = BuildTaskDetails({.task = task, .task_log = "", .units = units, .unit_logs = logs});
  EXPECT_EQ(parked.activity_logs[0]["Status"], "Running") << "a parked task is shown Executing";
  EXPECT_EQ(parked.activity_logs[0]["Children"][0]["Status"], "Running");
  EXPECT_EQ(parked.activity_logs[0]["Children"][0]["Children"][0]["Status"], "Running");

  task = DeployTask(tasks::TaskState::kCanceled);
  auto canceled =
      BuildTaskDetails({.task = task, .task_log = "", .units = units, .unit_logs = logs});
  EXPECT_EQ(canceled.activity_logs[0]["Status"], "Canceled");
  EXPECT_EQ(canceled.activity_logs[0]["Children"][0]["Status"], "Canceled");
  EXPECT_EQ(canceled.progress_percentage, 100);
}

TEST(TaskDetailsTest, AMultiActionStepNamesEachUnitByActionAndTarget) {
  auto task = DeployTask(tasks::TaskState::kFailed);
  std::vector<deploy::UnitRow> units = {
      Unit(0, 1, "Web", "1", "1", "Succeeded"),
      Unit(1, 1, "Web", "2", "1", "Failed"),
      Unit(2, 2, "Notify", "3", "", "Skipped"),
  };
  std::vector<std::string> logs(3);
  auto d = BuildTaskDetails({.task = task, .task_log = "", .units = units, .unit_logs = logs});
  const json& steps = d.activity_logs[0]["Children"];
  EXPECT_EQ(steps[0]["Children"][0]["Name"], "Action 1 on web-1");
  EXPECT_EQ(steps[0]["Children"][1]["Name"], "Action 2 on web-1");
  EXPECT_EQ(steps[0]["Status"], "Failed");
  EXPECT_EQ(steps[1]["Status"], "Skipped");
  EXPECT_EQ(d.activity_logs[0]["Status"], "Failed");
}

TEST(TaskDetailsTest, StepStatusAggregatesItsUnits) {
  auto running = DeployTask(tasks::TaskState::kExecuting);
  auto done = DeployTask(tasks::TaskState::kSuccess);
  using V = std::vector<std::string>;
  EXPECT_EQ(StepActivityStatus(V{"Success", "Running", "Failed"}, running), "Running");
  EXPECT_EQ(StepActivityStatus(V{"Success", "Failed"}, running), "Failed");
  EXPECT_EQ(StepActivityStatus(V{"Canceled", "Success"}, running), "Canceled");
  EXPECT_EQ(StepActivityStatus(V{"Pending", "Pending"}, running), "Pending");
  EXPECT_EQ(StepActivityStatus(V{"Skipped", "Skipped"}, done), "Skipped");
  EXPECT_EQ(StepActivityStatus(V{"Success", "Skipped"}, done), "Success");
  EXPECT_EQ(StepActivityStatus(V{"Success", "SuccessWithWarning"}, done), "SuccessWithWarning");
  EXPECT_EQ(StepActivityStatus(V{"Success", "Pending"}, running), "Running");
}

}  // namespace
}  // namespace cuttle::model
