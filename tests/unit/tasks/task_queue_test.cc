// The queue's rules on SQLite (the single-node backend): claim order, expiry, concurrency tags,
// cancellation, fencing and the dead-node policy. task_queue_pgtest.cc runs the concurrency
// cases against PostgreSQL.
#include "tasks/task_queue.h"

#include <gtest/gtest.h>

#include "repo/repo.h"
#include "testing/fake_clock.h"
#include "testing/test_db.h"

namespace cuttle::tasks {
namespace {

class TaskQueueTest : public ::testing::Test {
 protected:
  TaskQueueTest() : db_(testing::NewSqlite(dir_, &clock_)), queue_(*db_) {}

  NewTask Script(std::string tag = "") {
    NewTask t;
    t.name = "AdHocScript";
    t.arguments = {{"ScriptBody", "true"}};
    t.concurrency_tag = std::move(tag);
    return t;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<db::Database> db_;
  TaskQueue queue_;
};

TEST_F(TaskQueueTest, ClaimsOldestFirstAndOnlyOnce) {
  auto a = queue_.Enqueue(Script());
  clock_.Advance(std::chrono::milliseconds(5));
  auto b = queue_.Enqueue(Script());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id, "ServerTasks-1");
  EXPECT_EQ(b->id, "ServerTasks-2");
  auto first = queue_.Claim("n1");
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->id, a->id);
  EXPECT_EQ((*first)->state, TaskState::kExecuting);
  EXPECT_EQ((*first)->server_node, "n1");
  EXPECT_EQ((*first)->claim_epoch, 1);
  auto second = queue_.Claim("n2");
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->id, b->id);
  auto none = queue_.Claim("n1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(TaskQueueTest, ABatchClaimTakesTheOldestAndNeverTwoOfOneConcurrencyTag) {
  ASSERT_TRUE(queue_.Enqueue(Script()));
  clock_.Advance(std::chrono::milliseconds(5));
  ASSERT_TRUE(queue_.Enqueue(Script("Projects-1/Environments-1")));
  clock_.Advance(std::chrono::milliseconds(5));
  ASSERT_TRUE(queue_.Enqueue(Script()));
  auto two = queue_.ClaimUpTo("n1", 2).value();
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].id, "ServerTasks-1");
  EXPECT_EQ(two[1].id, "ServerTasks-2");
  for (const auto& t : two) EXPECT_EQ(t.state, TaskState::kExecuting);
  // Two queued tasks of one tag at the head of the queue: a batch would hold both, so one alone.
  ASSERT_TRUE(queue_.Enqueue(Script("Projects-2/Environments-1")));
  ASSERT_TRUE(queue_.Enqueue(Script("Projects-2/Environments-1")));
  auto rest = queue_.ClaimUpTo("n2", 10).value();
  std::vector<std::string> ids;
  for (const auto& t : rest) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"ServerTasks-3"}));
  auto next = queue_.ClaimUpTo("n2", 10).value();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].id, "ServerTasks-4");
  EXPECT_TRUE(queue_.ClaimUpTo("n2", 10).value().empty()) << "ServerTasks-5 waits for its tag";
}

TEST_F(TaskQueueTest, ExpiredTasksAreNotClaimedAndTimeOut) {
  auto t = Script();
  t.queue_time_expiry = core::ToUnixMillis(clock_.Now()) + 1000;
  ASSERT_TRUE(queue_.Enqueue(t));
  clock_.Advance(std::chrono::milliseconds(1001));
  auto claimed = queue_.Claim("n1");
  ASSERT_TRUE(claimed);
  EXPECT_FALSE(claimed->has_value());
  EXPECT_EQ(queue_.ExpireQueued().value(), 1);
  EXPECT_EQ(queue_.Get("ServerTasks-1").value()->state, TaskState::kTimedOut);
}

TEST_F(TaskQueueTest, ConcurrencyTagAllowsOneExecutingTaskAtATime) {
  ASSERT_TRUE(queue_.Enqueue(Script("Projects-1/Environments-1")));
  ASSERT_TRUE(queue_.Enqueue(Script("Projects-1/Environments-1")));
  ASSERT_TRUE(queue_.Enqueue(Script("Projects-2/Environments-1")));
  auto first = queue_.Claim("n1").value();
  ASSERT_TRUE(first);
  auto next = queue_.Claim("n1").value();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, "ServerTasks-3") << "the second task of a busy tag is skipped";
  EXPECT_FALSE(queue_.Claim("n1").value().has_value());
  Lease lease{first->id, "n1", first->claim_epoch};
  ASSERT_TRUE(queue_.Complete(lease, TaskState::kSuccess, "", false));
  auto freed = queue_.Claim("n1").value();
  ASSERT_TRUE(freed);
  EXPECT_EQ(freed->id, "ServerTasks-2");
}

TEST_F(TaskQueueTest, FencedWritesFailOnceTheLeaseIsGone) {
  ASSERT_TRUE(queue_.Enqueue(Script()));
  auto t = queue_.Claim("n1").value();
  ASSERT_TRUE(t);
  Lease mine{t->id, "n1", t->claim_epoch};
  ASSERT_TRUE(queue_.MarkWorkStarted(mine));
  Lease stale{t->id, "n1", t->claim_epoch - 1};
  auto r = queue_.Complete(stale, TaskState::kSuccess, "", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLostOwnership);
  Lease other{t->id, "n2", t->claim_epoch};
  EXPECT_FALSE(queue_.Touch(other, false));
  ASSERT_TRUE(queue_.Complete(mine, TaskState::kFailed, "boom", true));
  // A finished task can no longer be written, even by its owner.
  EXPECT_EQ(queue_.Complete(mine, TaskState::kSuccess, "", false).error().code(),
            ErrorCode::kLostOwnership);
  auto done = queue_.Get(t->id).value();
  EXPECT_EQ(done->state, TaskState::kFailed);
  EXPECT_EQ(done->error_message, "boom");
  EXPECT_TRUE(done->has_warnings_or_errors);
}

TEST_F(TaskQueueTest, CancelQueuedIsImmediateAndExecutingGoesThroughCancelling) {
  ASSERT_TRUE(queue_.Enqueue(Script()));
  ASSERT_TRUE(queue_.Enqueue(Script()));
  EXPECT_EQ(queue_.Cancel("ServerTasks-2").value().state, TaskState::kCanceled);
  auto running = queue_.Claim("n1").value();
  ASSERT_TRUE(running);
  EXPECT_EQ(queue_.Cancel(running->id).value().state, TaskState::kCancelling);
  Lease lease{running->id, "n1", running->claim_epoch};
  ASSERT_TRUE(queue_.Complete(lease, TaskState::kCanceled, "", false));
  EXPECT_EQ(queue_.Cancel(running->id).value().state, TaskState::kCanceled) << "no-op when done";
  EXPECT_EQ(queue_.Cancel("ServerTasks-99").error().code(), ErrorCode::kNotFound);
}

TEST_F(TaskQueueTest, RerunQueuesACopyOfAFinishedTaskOnly) {
  ASSERT_TRUE(queue_.Enqueue(Script()));
  EXPECT_EQ(queue_.Rerun("ServerTasks-1", "Users-1").error().code(), ErrorCode::kConflict);
  auto t = queue_.Claim("n1").value();
  ASSERT_TRUE(queue_.Complete({t->id, "n1", t->claim_epoch}, TaskState::kFailed, "x", false));
  auto copy = queue_.Rerun("ServerTasks-1", "Users-1");
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->id, "ServerTasks-2");
  EXPECT_EQ(copy->state, TaskState::kQueued);
  EXPECT_EQ(copy->rerun_of, "ServerTasks-1");
  EXPECT_EQ(copy->arguments, t->arguments);
}

TEST_F(TaskQueueTest, OrphansOfDeadNodesFollowThePolicy) {
  // n1 is registered and then stops heartbeating; n2 stays alive.
  ASSERT_TRUE(repo::UpsertNode(*db_, "n1", 5, "test", 2));
  ASSERT_TRUE(repo::UpsertNode(*db_, "n2", 5, "test", 2));
  NewTask noop;
  noop.name = "Noop";
  noop.idempotent = true;
  ASSERT_TRUE(queue_.Enqueue(Script()));  // 1: started -> Failed
  ASSERT_TRUE(queue_.Enqueue(Script()));  // 2: not started -> re-queued
  ASSERT_TRUE(queue_.Enqueue(noop));      // 3: idempotent -> re-queued
  ASSERT_TRUE(queue_.Enqueue(Script()));  // 4: cancelling -> Canceled
  ASSERT_TRUE(queue_.Enqueue(Script()));  // 5: on the live node -> untouched
  std::vector<Task> claimed;
  for (int i = 0; i < 4; ++i) claimed.push_back(*queue_.Claim("n1").value());
  auto live = queue_.Claim("n2").value();
  ASSERT_TRUE(queue_.MarkWorkStarted({claimed[0].id, "n1", 1}));
  ASSERT_TRUE(queue_.MarkWorkStarted({claimed[2].id, "n1", 1}));
  ASSERT_TRUE(queue_.Cancel(claimed[3].id));

  EXPECT_TRUE(queue_.FindOrphans(5000, std::nullopt).value().empty()) << "n1 is not dead yet";
  clock_.Advance(std::chrono::milliseconds(4000));
  ASSERT_TRUE(repo::Heartbeat(*db_, repo::NodeId("n2")));
  clock_.Advance(std::chrono::milliseconds(1500));
  auto orphans = queue_.FindOrphans(5000, std::nullopt).value();
  ASSERT_EQ(orphans.size(), 4u);
  for (const auto& o : orphans) EXPECT_TRUE(queue_.ResolveOrphan(o, "n1 died").value());
  EXPECT_EQ(queue_.Get("ServerTasks-1").value()->state, TaskState::kFailed);
  EXPECT_EQ(queue_.Get("ServerTasks-1").value()->error_message, "n1 died");
  EXPECT_EQ(queue_.Get("ServerTasks-2").value()->state, TaskState::kQueued);
  EXPECT_EQ(queue_.Get("ServerTasks-3").value()->state, TaskState::kQueued);
  EXPECT_EQ(queue_.Get("ServerTasks-4").value()->state, TaskState::kCanceled);
  EXPECT_EQ(queue_.Get(live->id).value()->state, TaskState::kExecuting);
  // Resolving again is a no-op: the lease has moved on.
  EXPECT_FALSE(queue_.ResolveOrphan(orphans[0], "again").value());
  // A re-queued task is claimed with a new epoch; the dead node's old lease cannot write.
  auto again = queue_.Claim("n2").value();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->claim_epoch, 2);
  EXPECT_FALSE(queue_.Complete({again->id, "n1", 1}, TaskState::kSuccess, "", false));
}

TEST_F(TaskQueueTest, ListFiltersLikeOctopus) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue_.Enqueue(Script()));
  auto t = queue_.Claim("n1").value();
  TaskFilter f;
  f.ids = {"ServerTasks-2", "ServerTasks-4"};
  f.skip = 300;  // the api-client waiter's quirk: ignored with ids
  auto [items, total] = queue_.List(f).value();
  EXPECT_EQ(total, 2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].id, "ServerTasks-4");
  TaskFilter running;
  running.running = true;
  EXPECT_EQ(queue_.List(running).value().total, 1);
  TaskFilter by_node;
  by_node.node = "n1";
  EXPECT_EQ(queue_.List(by_node).value().items.front().id, t->id);
  TaskFilter queued;
  queued.states = {TaskState::kQueued};
  queued.take = 2;
  auto [page, count] = queue_.List(queued).value();
  EXPECT_EQ(count, 4);
  EXPECT_EQ(page.size(), 2u);
}

TEST(FairShareTest, FollowsOctopusWorkedExample) {
  // 3 nodes x cap 10, 10 active, 12 pending: cluster ratio 22/30 = 73.3 %.
  ClusterLoad load{10, 12, 30};
  EXPECT_FALSE(ShouldClaim(8, 10, load));  // 80 % > 73 %: lets the others go first
  EXPECT_TRUE(ShouldClaim(3, 10, load));
  EXPECT_TRUE(ShouldClaim(7, 10, load));  // 70 % <= 73 %
  EXPECT_TRUE(ShouldClaim(0, 10, load));
  EXPECT_FALSE(ShouldClaim(10, 10, load)) << "never above the cap";
  EXPECT_FALSE(ShouldClaim(0, 0, load)) << "cap 0 is a UI-only node";
  EXPECT_TRUE(ShouldClaim(2, 5, ClusterLoad{2, 1, 0})) << "only this node: its cap decides";
}

TEST(OrphanPolicyTest, RequeuesOnlyWhatIsSafeToRunAgain) {
  Task t;
  t.state = TaskState::kExecuting;
  EXPECT_EQ(OrphanPolicy(t), Orphan::kRequeue);
  t.work_started = true;
  EXPECT_EQ(OrphanPolicy(t), Orphan::kFail);
  t.idempotent = true;
  EXPECT_EQ(OrphanPolicy(t), Orphan::kRequeue);
  t.state = TaskState::kCancelling;
  EXPECT_EQ(OrphanPolicy(t), Orphan::kCancel);
}

// A task enqueued inside a transaction exists only if the transaction commits (a deployment and
// its Deploy task commit or vanish together), and a scheduled one waits for its queue time.
TEST_F(TaskQueueTest, ATaskEnqueuedInARolledBackTransactionNeverExists) {
  auto rolled_back = db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(queue_.EnqueueIn(tx, Script()));
    return Fail(Error::InvalidArgument("refused"));
  });
  ASSERT_FALSE(rolled_back);
  EXPECT_FALSE(queue_.Get("ServerTasks-1").value().has_value());
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(queue_.EnqueueIn(tx, Script()));
    return {};
  }));
  auto claimed = queue_.Claim("n1").value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->state, TaskState::kExecuting);
}

TEST_F(TaskQueueTest, AScheduledTaskIsNotClaimedBeforeItsQueueTime) {
  const int64_t now = core::ToUnixMillis(clock_.Now());
  NewTask later = Script();
  later.queue_time = now + 60'000;
  std::string id;
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto t, queue_.EnqueueIn(tx, later));
    id = t.id;
    EXPECT_EQ(t.queue_time, now + 60'000);
    return {};
  }));
  EXPECT_FALSE(queue_.Claim("n1").value().has_value());
  clock_.Advance(std::chrono::milliseconds(60'000));
  auto claimed = queue_.Claim("n1").value();
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, id);
}

}  // namespace
}  // namespace cuttle::tasks
