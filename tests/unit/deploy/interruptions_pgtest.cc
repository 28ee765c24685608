// Parking and the interruptions store on PostgreSQL (the checks: interruptions_checks.h).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "interruptions_checks.h"
#include "testing/test_db.h"

namespace cuttle::deploy {
namespace {

TEST(InterruptionsPgTest, ParkedTaskIsUnclaimableHoldsItsTagAndNeverExpiresOrOrphans) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::ParkedTaskIsUnclaimableHoldsItsTagAndNeverExpiresOrOrphans(*db);
}

TEST(InterruptionsPgTest, RaiseAndParkIsFenced) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::RaiseAndParkIsFenced(*db);
}

TEST(InterruptionsPgTest, RaisingAgainReusesTheRow) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::RaisingAgainReusesTheRow(*db);
}

TEST(InterruptionsPgTest, SubmitValidatesTheAnswer) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::SubmitValidatesTheAnswer(*db);
}

TEST(InterruptionsPgTest, ResponsibilityDecidesWhoAnswers) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::ResponsibilityDecidesWhoAnswers(*db);
}

TEST(InterruptionsPgTest, SubmitUnparksTheTaskForANewClaim) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::SubmitUnparksTheTaskForANewClaim(*db);
}

TEST(InterruptionsPgTest, CancellingAParkedTaskEndsItAndClosesItsInterruptions) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::CancellingAParkedTaskEndsItAndClosesItsInterruptions(*db);
}

TEST(InterruptionsPgTest, ListsAndPendingTypes) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::ListsAndPendingTypes(*db);
}

TEST(InterruptionsPgTest, TaskListShowsParkedTasksAsExecuting) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::TaskListShowsParkedTasksAsExecuting(*db);
}

// Two nodes answer one prompt at the same moment (each on its own connection pool): exactly one
// answer is recorded, the other is a conflict, and the task is un-parked once, claimable by one
// node.
TEST(InterruptionsPgTest, TwoAnswersAtOnceRecordExactlyOne) {
  const std::string url = testing::NewPostgresDatabase();
  auto a = testing::OpenMigrated(url);
  auto b = testing::OpenMigrated(url);
  ASSERT_TRUE(a && b);
  tasks::TaskQueue qa(*a), qb(*b);
  for (int round = 0; round < 20; ++round) {
    tasks::Lease lease =
        checks::Running(qa, checks::DeployTask(std::string("T") + std::to_string(round)));
    auto raised = RaiseAndPark(*a, lease, checks::Manual(lease));
    ASSERT_TRUE(raised) << raised.error().message();
    std::atomic<bool> go{false};
    std::atomic<int> ok{0}, conflicts{0};
    auto answer = [&](db::Database& db, tasks::TaskQueue& q, const char* result) {
      while (!go) {
      }
      auto r = SubmitInterruption(db, q, raised->id, "Users-1", {{"Result", result}});
      if (r) {
        ++ok;
      } else if (r.error().code() == ErrorCode::kConflict) {
        ++conflicts;
      }
    };
    std::thread t1(answer, std::ref(*a), std::ref(qa), "Proceed");
    std::thread t2(answer, std::ref(*b), std::ref(qb), "Abort");
    go = true;
    t1.join();
    t2.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), 1) << "round " << round;
    auto stored = GetInterruption(*a, raised->id).value().value();
    EXPECT_FALSE(stored.is_pending);
    EXPECT_TRUE(Answer(stored) == "Proceed" || Answer(stored) == "Abort");
    auto claimed = qb.Claim("n2").value();
    ASSERT_TRUE(claimed) << "round " << round;
    EXPECT_EQ(claimed->id, lease.task_id);
    EXPECT_FALSE(qa.Claim("n3").value().has_value());
    ASSERT_TRUE(qb.Complete({claimed->id, "n2", claimed->claim_epoch}, tasks::TaskState::kSuccess,
                            "", false));
  }
}

TEST(InterruptionsPgTest, AnAnswerToACancelledTaskIsRefused) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::AnAnswerToACancelledTaskIsRefused(*db);
}

TEST(InterruptionsPgTest, AStartedDeploymentOutlivesItsQueueExpiry) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  checks::AStartedDeploymentOutlivesItsQueueExpiry(*db);
}

// A resumed deployment keeps its turn: while one node is claiming it (its row locked, which
// SKIP LOCKED passes over), another node does not take the newer deployment of the same project
// and environment instead.
TEST(InterruptionsPgTest, ANewerDeploymentDoesNotOvertakeAResumedOne) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  tasks::TaskQueue q(*db);
  tasks::Lease lease = checks::Running(q, checks::DeployTask());
  auto i = RaiseAndPark(*db, lease, checks::Manual(lease)).value();
  auto newer = q.Enqueue(checks::DeployTask());
  ASSERT_TRUE(newer);
  ASSERT_TRUE(SubmitInterruption(*db, q, i.id, "Users-1", {{"Result", "Proceed"}}));
  auto claiming = db->Begin();
  ASSERT_TRUE(claiming);
  ASSERT_TRUE((*claiming)->Execute("SELECT id FROM server_tasks WHERE id = $1 FOR UPDATE",
                                   {lease.task_id}));
  EXPECT_FALSE(q.Claim("n3").value().has_value()) << "the newer deployment overtook";
  (*claiming)->Rollback();
  auto c = q.Claim("n2").value();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, lease.task_id);
}
}  // namespace
}  // namespace cuttle::deploy
