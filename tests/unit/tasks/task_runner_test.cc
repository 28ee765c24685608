// The runner end to end on SQLite: real scripts, real processes, the real clock (the work itself
// takes real time; nothing here sleeps to let time pass, it waits for the work to finish).
#include "tasks/task_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cluster/node_registry.h"
#include "repo/repo.h"
#include "tasks/task_log.h"
#include "testing/faulty_db.h"
#include "testing/test_db.h"

namespace cuttle::tasks {
namespace {

class TaskRunnerTest : public ::testing::Test {
 protected:
  TaskRunnerTest()
      : db_(testing::NewSqlite(dir_)),
        registry_(*db_, core::SystemClock::Instance(),
                  cluster::RegistryOptions{"unit", "test", 2, 5, 100, 2000}),
        queue_(*db_),
        artifacts_(*db_, dir_.Sub("artifacts")) {
    std::filesystem::create_directories(dir_.Sub("tasklogs"));
    std::filesystem::create_directories(dir_.Sub("artifacts"));
    options_.node_name = "unit";
    options_.tasklogs_dir = dir_.Sub("tasklogs");
    options_.artifacts_dir = dir_.Sub("artifacts");
    options_.work_dir = dir_.Sub("work");
    options_.node_timeout_ms = 2000;
    options_.script_timeout = std::chrono::seconds(30);
    EXPECT_TRUE(registry_.Start());
  }
  ~TaskRunnerTest() override { registry_.Stop(); }

  Task Enqueue(const std::string& name, const std::string& script = "") {
    NewTask t;
    t.name = name;
    if (!script.empty()) t.arguments = {{"ScriptBody", script}};
    t.idempotent = name == "Noop";
    return queue_.Enqueue(t).value();
  }

  // Waits (bounded) until the task reaches a final state.
  Task WaitFinal(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto t = queue_.Get(id).value();
      if (IsFinal(t->state) || std::chrono::steady_clock::now() > deadline) return *t;
      db_->WaitForNotification("never", std::chrono::milliseconds(20));
    }
  }

  // The task's log wherever it is: its row (a short task) or its file.
  std::string Log(const std::string& id) {
    auto text = TaskQueue(*db_).LogText(id).value();
    return ReadTaskLog(TaskLogPath(options_.tasklogs_dir, id), text, 1 << 20).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  cluster::NodeRegistry registry_;
  TaskQueue queue_;
  ArtifactStore artifacts_;
  RunnerOptions options_;
};

TEST_F(TaskRunnerTest, RunsScriptsAndNoopsToTheirFinalState) {
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  auto ok = Enqueue("AdHocScript", "echo hello from bash");
  auto bad = Enqueue("AdHocScript", "echo failing >&2; exit 7");
  auto noop = Enqueue("Noop");
  auto unknown = Enqueue("Deploy");
  EXPECT_EQ(WaitFinal(ok.id).state, TaskState::kSuccess);
  EXPECT_NE(Log(ok.id).find("| hello from bash"), std::string::npos) << Log(ok.id);
  auto failed = WaitFinal(bad.id);
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_EQ(failed.error_message, "The script returned exit code 7");
  EXPECT_TRUE(failed.has_warnings_or_errors);
  auto n = WaitFinal(noop.id);
  EXPECT_EQ(n.state, TaskState::kSuccess);
  EXPECT_EQ(n.server_node, "unit");
  // A task this short keeps its log in its row: readable, and no file was made for it.
  EXPECT_NE(Log(noop.id).find("| Noop task on node unit"), std::string::npos) << Log(noop.id);
  EXPECT_FALSE(std::filesystem::exists(TaskLogPath(options_.tasklogs_dir, noop.id)));
  EXPECT_EQ(WaitFinal(unknown.id).state, TaskState::kFailed);
  runner.Stop(std::chrono::seconds(1));
}

TEST_F(TaskRunnerTest, ATaskEnqueuedOnAnIdleNodeIsClaimedByTheEnqueuingThread) {
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  TaskQueue api_queue(*db_);
  api_queue.SetLocalDispatch(runner.LocalDispatch());
  NewTask n;
  n.name = "Noop";
  n.idempotent = true;
  auto t = api_queue.Enqueue(n);
  ASSERT_TRUE(t) << t.error().message();
  // Claimed before Enqueue returned: no dispatcher thread had to wake up for it.
  auto now = queue_.Get(t->id).value();
  EXPECT_NE(now->state, TaskState::kQueued);
  EXPECT_EQ(now->claim_epoch, 1);
  EXPECT_EQ(WaitFinal(t->id).state, TaskState::kSuccess);

  // A drained node leaves the task queued for the cluster.
  repo::NodeUpdate drain;
  drain.is_in_maintenance_mode = true;
  ASSERT_TRUE(repo::UpdateNode(*db_, registry_.node_id(), drain, 2000));
  ASSERT_TRUE(registry_.HeartbeatOnce());
  auto queued = api_queue.Enqueue(n);
  ASSERT_TRUE(queued);
  EXPECT_EQ(queue_.Get(queued->id).value()->state, TaskState::kQueued);
  drain.is_in_maintenance_mode = false;
  ASSERT_TRUE(repo::UpdateNode(*db_, registry_.node_id(), drain, 2000));
  ASSERT_TRUE(registry_.HeartbeatOnce());
  runner.Wake();
  EXPECT_EQ(WaitFinal(queued->id).state, TaskState::kSuccess);
  runner.Stop(std::chrono::seconds(1));
}

TEST_F(TaskRunnerTest, CancelStopsARunningScriptWithinASecond) {
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  auto t = Enqueue("AdHocScript", "echo started; sleep 600");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Log(t.id).find("started") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    db_->WaitForNotification("never", std::chrono::milliseconds(20));
  }
  auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(queue_.Cancel(t.id).value().state, TaskState::kCancelling);
  auto done = WaitFinal(t.id);
  auto took = std::chrono::steady_clock::now() - asked;
  EXPECT_EQ(done.state, TaskState::kCanceled);
  EXPECT_LT(took, std::chrono::seconds(1));
  runner.Stop(std::chrono::seconds(1));
}

TEST_F(TaskRunnerTest, CollectsArtifactsAndRefusesNamesThatLeaveTheDirectory) {
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  auto t = Enqueue("AdHocScript",
                   "echo report > r.txt\nnew_octopusartifact r.txt report.txt\n"
                   "new_octopusartifact r.txt ../../escape.txt\n");
  EXPECT_EQ(WaitFinal(t.id).state, TaskState::kSuccess);
  auto list = artifacts_.List(std::nullopt, t.id).value().items;
  ASSERT_EQ(list.size(), 1u) << Log(t.id);
  EXPECT_EQ(list[0].filename, "report.txt");
  EXPECT_EQ(list[0].size, 7);
  std::ifstream in(artifacts_.PathOf(list[0]));
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "report\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("escape.txt")));
  EXPECT_NE(Log(t.id).find("not a plain file name"), std::string::npos) << Log(t.id);
  runner.Stop(std::chrono::seconds(1));
}

// Bug (issue 9 #4): createArtifact of /dev/zero copied without bound into the artifact store, a
// FIFO blocked the copy forever, and a file outside the task's folder became an artifact.
TEST_F(TaskRunnerTest, RefusesArtifactsThatAreNotRegularFilesOfTheWorkingFolder) {
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  auto t = Enqueue("AdHocScript",
                   "new_octopusartifact /dev/zero zero.bin\n"
                   "mkfifo pipe\n"
                   "echo \"##octopus[createArtifact path='$(encode_servicemessagevalue pipe)' "
                   "name='$(encode_servicemessagevalue pipe.bin)']\"\n"
                   "ln -s /etc/passwd passwd\nnew_octopusartifact passwd passwd.txt\n");
  EXPECT_EQ(WaitFinal(t.id).state, TaskState::kSuccess) << Log(t.id);
  EXPECT_TRUE(artifacts_.List(std::nullopt, t.id)->items.empty());
  std::string log = Log(t.id);
  EXPECT_NE(log.find("Artifact zero.bin was not collected: '/dev/zero' is not inside"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("Artifact pipe.bin was not collected: 'pipe' is not a regular file"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("Artifact passwd.txt was not collected: '/etc/passwd' is not inside"),
            std::string::npos)
      << log;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Sub("artifacts"))) {
    EXPECT_TRUE(e.is_directory()) << e.path() << " was left in the artifact store";
  }
  runner.Stop(std::chrono::seconds(1));
}

// Bug (issue 9 #7): the working folders of tasks killed with their node were never removed.
TEST_F(TaskRunnerTest, StartSweepsTheWorkingFoldersOfAKilledRunAndRemovesEachTasksOwn) {
  std::filesystem::create_directories(options_.work_dir + "/servertasks-99-abc123");
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  EXPECT_FALSE(std::filesystem::exists(options_.work_dir + "/servertasks-99-abc123"));
  auto t = Enqueue("AdHocScript", "echo data > out.txt");
  EXPECT_EQ(WaitFinal(t.id).state, TaskState::kSuccess);
  runner.Stop(std::chrono::seconds(1));
  EXPECT_TRUE(std::filesystem::is_empty(options_.work_dir));
}

TEST_F(TaskRunnerTest, DrainedNodeClaimsNothingUntilUndrained) {
  repo::NodeUpdate drain;
  drain.is_in_maintenance_mode = true;
  ASSERT_TRUE(repo::UpdateNode(*db_, registry_.node_id(), drain, 2000));
  ASSERT_TRUE(registry_.HeartbeatOnce());
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  auto t = Enqueue("Noop");
  // Two poll intervals pass with the task still queued.
  db_->WaitForNotification("never", std::chrono::milliseconds(2200));
  EXPECT_EQ(queue_.Get(t.id).value()->state, TaskState::kQueued);
  drain.is_in_maintenance_mode = false;
  ASSERT_TRUE(repo::UpdateNode(*db_, registry_.node_id(), drain, 2000));
  ASSERT_TRUE(registry_.HeartbeatOnce());
  runner.Wake();
  EXPECT_EQ(WaitFinal(t.id).state, TaskState::kSuccess);
  runner.Stop(std::chrono::seconds(1));
}

TEST_F(TaskRunnerTest, ARestartedNodeResolvesItsOwnLeftoversBeforeClaiming) {
  // A previous run of this node claimed two tasks and died.
  auto started = Enqueue("AdHocScript", "echo hi");
  auto unstarted = Enqueue("AdHocScript", "echo hi");
  auto a = queue_.Claim("unit").value();
  auto b = queue_.Claim("unit").value();
  ASSERT_TRUE(queue_.MarkWorkStarted({a->id, "unit", a->claim_epoch}));
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  auto failed = queue_.Get(started.id).value();
  EXPECT_EQ(failed->state, TaskState::kFailed);
  EXPECT_NE(failed->error_message.find("restarted"), std::string::npos);
  EXPECT_NE(Log(started.id).find("restarted"), std::string::npos);
  // The unstarted one was re-queued and then run.
  EXPECT_EQ(WaitFinal(unstarted.id).state, TaskState::kSuccess);
  EXPECT_EQ(WaitFinal(unstarted.id).claim_epoch, 2);
  (void)b;
  runner.Stop(std::chrono::seconds(1));
}

// Regression: a claim whose reply was lost with the database connection (the UPDATE committed,
// the retry claimed something else) left a task Executing on a live node forever.
TEST_F(TaskRunnerTest, AClaimWhoseReplyWasLostIsHandedBack) {
  options_.lost_claim_age = std::chrono::milliseconds(300);
  TaskRunner runner(*db_, registry_, options_);
  ASSERT_TRUE(runner.Start());
  // Drained, the runner claims nothing itself; the task is claimed in the database as this node
  // (the claim's UPDATE as it committed; a drained node's own claims take nothing) while no
  // thread of the runner knows about it.
  repo::NodeUpdate drain;
  drain.is_in_maintenance_mode = true;
  ASSERT_TRUE(repo::UpdateNode(*db_, registry_.node_id(), drain, 2000));
  ASSERT_TRUE(registry_.HeartbeatOnce());
  auto t = Enqueue("AdHocScript", "echo ran");
  EXPECT_TRUE(queue_.Claim("unit").value() == std::nullopt) << "a drained node claims nothing";
  auto lost = db_->Execute(
      "UPDATE server_tasks SET state = 'Executing', server_node = 'unit', claim_epoch = "
      "claim_epoch + 1, start_time = now_ms(), last_updated_time = now_ms() WHERE id = $1",
      {t.id});
  ASSERT_TRUE(lost);
  ASSERT_EQ(lost->affected, 1);
  drain.is_in_maintenance_mode = false;
  ASSERT_TRUE(repo::UpdateNode(*db_, registry_.node_id(), drain, 2000));
  ASSERT_TRUE(registry_.HeartbeatOnce());
  auto done = WaitFinal(t.id);
  EXPECT_EQ(done.state, TaskState::kSuccess);
  EXPECT_EQ(done.claim_epoch, 2) << "re-queued, then claimed again";
  EXPECT_NE(Log(t.id).find("reply was lost"), std::string::npos) << Log(t.id);
  runner.Stop(std::chrono::seconds(1));
}

// Regression (the failover test's 20 s outlier): a claim retried through a database failover came
// back once the database was up again but before the node's heartbeat was; the node started the
// tasks, found itself fenced a moment later, stopped them and failed them. Such a claim is handed
// back unstarted, and the task runs once the heartbeat recovers.
TEST_F(TaskRunnerTest, AClaimThatComesBackWhileTheHeartbeatFailsIsHandedBackUnstarted) {
  testing::FaultyDatabase faulty(*db_);
  cluster::NodeRegistry registry(faulty, core::SystemClock::Instance(),
                                 cluster::RegistryOptions{"flaky", "test", 2, 5, 100, 2000});
  std::atomic<bool> tripped{false};
  // The heartbeat fails while the first claim is on its way to the database.
  faulty.before_execute = [&](std::string_view sql) {
    if (sql.find("SET state = 'Executing'") != std::string_view::npos && !tripped.exchange(true)) {
      faulty.fail_single_attempts = true;
      EXPECT_FALSE(registry.HeartbeatOnce());
    }
  };
  ASSERT_TRUE(registry.Start());
  options_.node_name = "flaky";
  TaskQueue queue(faulty);
  TaskRunner runner(faulty, registry, options_);
  queue.SetLocalDispatch(runner.LocalDispatch());
  ASSERT_TRUE(runner.Start());
  NewTask n;
  n.name = "AdHocScript";
  n.arguments = {{"ScriptBody", "echo ran"}};
  auto t = queue.Enqueue(n).value();
  // Whichever thread claimed it first (this one, or the dispatcher) handed it back.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto back = queue_.Get(t.id).value();
  while (back->state == TaskState::kExecuting && std::chrono::steady_clock::now() < deadline) {
    db_->WaitForNotification("never", std::chrono::milliseconds(10));
    back = queue_.Get(t.id).value();
  }
  ASSERT_TRUE(tripped);
  EXPECT_EQ(back->state, TaskState::kQueued) << "handed back";
  EXPECT_EQ(back->claim_epoch, 1);
  EXPECT_FALSE(back->work_started);
  faulty.fail_single_attempts = false;  // the registry's thread gets its next heartbeat through
  auto done = WaitFinal(t.id);
  EXPECT_EQ(done.state, TaskState::kSuccess) << done.error_message;
  EXPECT_EQ(done.claim_epoch, 2) << "claimed again once the heartbeat recovered";
  runner.Stop(std::chrono::seconds(1));
  registry.Stop();
}

}  // namespace
}  // namespace cuttle::tasks
