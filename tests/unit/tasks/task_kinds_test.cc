#include "tasks/task_kinds.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "cluster/node_registry.h"
#include "tasks/task_runner.h"
#include "testing/test_db.h"

namespace cuttle::tasks {
namespace {

using nlohmann::json;

TaskKind Named(std::string name) {
  TaskKind k;
  k.name = std::move(name);
  k.run = [](TaskExecution&) { return TaskOutcome::Success(); };
  return k;
}

TEST(TaskKindsTest, TheRegistryHoldsTheBuiltInKinds) {
  const TaskKinds& kinds = TaskKinds::Registry();
  const TaskKind* noop = kinds.Find("noop");  // names match case-insensitively
  ASSERT_NE(noop, nullptr);
  EXPECT_EQ(noop->name, "Noop");
  EXPECT_TRUE(noop->idempotent);
  const TaskKind* script = kinds.Find("ADHOCSCRIPT");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->name, "AdHocScript");
  EXPECT_FALSE(script->idempotent);  // a script that started must not silently run twice
  EXPECT_EQ(kinds.Find("Deploy"), nullptr);
  EXPECT_EQ(kinds.CreatableByApi(), (std::vector<std::string>{"Noop", "AdHocScript"}));
}

TEST(TaskKindsTest, AdHocScriptArgumentsAreCheckedAndStoredUnderTheirOwnNames) {
  const TaskKind* script = TaskKinds::Registry().Find("AdHocScript");
  ASSERT_NE(script, nullptr);
  json args = {{"scriptbody", "echo hi"}, {"syntax", "bash"}};
  EXPECT_TRUE(script->validate(args).empty());
  EXPECT_EQ(args["ScriptBody"], "echo hi");
  EXPECT_EQ(args["Syntax"], "Bash");
  json bad = {{"Syntax", "PowerShell"}};
  auto problems = script->validate(bad);
  ASSERT_EQ(problems.size(), 2u);  // every problem at once
  EXPECT_NE(problems[0].find("ScriptBody is required"), std::string::npos);
  EXPECT_NE(problems[1].find("\"PowerShell\" is not supported"), std::string::npos);
  json empty_body = {{"ScriptBody", ""}};
  EXPECT_EQ(script->validate(empty_body).size(), 1u);
}

TEST(TaskKindsTest, RegisterRefusesDuplicatesAndKindsThatCannotRun) {
  TaskKinds kinds;
  ASSERT_TRUE(kinds.Register(Named("Deploy")));
  auto again = kinds.Register(Named("DEPLOY"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  TaskKind no_run;
  no_run.name = "Nothing";
  EXPECT_EQ(kinds.Register(no_run).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(kinds.Register(Named("")).error().code(), ErrorCode::kInvalidArgument);
  // A kind without a check of its own accepts any arguments.
  json args = {{"anything", 1}};
  EXPECT_TRUE(kinds.Find("deploy")->validate(args).empty());
  // A fresh registry has no built-in kinds until asked.
  EXPECT_EQ(kinds.Find("Noop"), nullptr);
  RegisterBuiltInKinds(kinds);
  EXPECT_NE(kinds.Find("Noop"), nullptr);
}

TEST(TaskKindsTest, OnlyApiCreatableKindsAreListedForPostTasks) {
  TaskKinds kinds;
  TaskKind deploy = Named("Deploy");
  deploy.creatable_by_api = false;
  ASSERT_TRUE(kinds.Register(std::move(deploy)));
  ASSERT_TRUE(kinds.Register(Named("Health")));
  EXPECT_EQ(kinds.CreatableByApi(), (std::vector<std::string>{"Health"}));
}

TEST(TaskKindsTest, TheRunnerExecutesAKindRegisteredOutsideTheModule) {
  // What a future Deploy kind does: registered from outside, run by the runner through its
  // TaskExecution (fenced start of work, a script, the task's log).
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  cluster::NodeRegistry registry(*db, core::SystemClock::Instance(),
                                 cluster::RegistryOptions{"unit", "test", 2, 5, 100, 2000});
  ASSERT_TRUE(registry.Start());
  std::filesystem::create_directories(dir.Sub("tasklogs"));
  std::filesystem::create_directories(dir.Sub("artifacts"));
  TaskKinds kinds;
  std::atomic<int> runs{0};
  TaskKind custom;
  custom.name = "Custom";
  custom.run = [&runs](TaskExecution& x) {
    ++runs;
    EXPECT_EQ(x.lease().task_id, x.task().id);
    EXPECT_EQ(x.lease().node, "unit");
    EXPECT_EQ(x.lease().epoch, x.task().claim_epoch);
    if (!x.StartWork()) return TaskOutcome::HandedOff();
    return x.RunScript({.body = "echo \"custom $CUSTOM_VALUE\"", .env = {{"CUSTOM_VALUE", "42"}}});
  };
  ASSERT_TRUE(kinds.Register(std::move(custom)));
  RunnerOptions options;
  options.node_name = "unit";
  options.tasklogs_dir = dir.Sub("tasklogs");
  options.artifacts_dir = dir.Sub("artifacts");
  options.work_dir = dir.Sub("work");
  options.node_timeout_ms = 2000;
  options.kinds = &kinds;
  TaskRunner runner(*db, registry, options);
  ASSERT_TRUE(runner.Start());
  TaskQueue queue(*db);
  NewTask n;
  n.name = "Custom";
  auto t = queue.Enqueue(n).value();
  NewTask noop;  // not in this runner's registry: it fails, naming the kind
  noop.name = "Noop";
  auto unknown = queue.Enqueue(noop).value();
  auto wait_final = [&](const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto now = queue.Get(id).value();
      if (IsFinal(now->state) || std::chrono::steady_clock::now() > deadline) return *now;
      db->WaitForNotification("never", std::chrono::milliseconds(20));
    }
  };
  auto done = wait_final(t.id);
  EXPECT_EQ(done.state, TaskState::kSuccess) << done.error_message;
  EXPECT_TRUE(done.work_started);
  EXPECT_EQ(runs.load(), 1);
  auto log =
      ReadTaskLog(TaskLogPath(options.tasklogs_dir, t.id), queue.LogText(t.id).value(), 1 << 20);
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("custom 42"), std::string::npos) << *log;
  auto failed = wait_final(unknown.id);
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_EQ(failed.error_message, "This node cannot execute tasks named 'Noop'.");
  runner.Stop(std::chrono::seconds(1));
  registry.Stop();
}

}  // namespace
}  // namespace cuttle::tasks
