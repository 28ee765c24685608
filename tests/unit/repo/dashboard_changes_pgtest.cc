// The dashboard's change counter on PostgreSQL, where its triggers are deferred to commit (the
// checks: dashboard_changes_checks.h).
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "dashboard_changes_checks.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

TEST(DashboardChangesPgTest, EveryRowTheDashboardShowsRaisesItsSpacesCounterOnCommit) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  ExpectCounterFollowsDashboardRows(*db);
}

TEST(DashboardChangesPgTest, EveryCellCarriesTheCounterValueItsCommitRaised) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  ExpectCellsCarryTheCounterOfTheirCommit(*db);
}

// The visibility a node's incremental rebuild relies on: a cell written by a transaction that
// commits after another one is stamped after it, whatever the order of their writes. A reader that
// saw the counter while the slow writer was still open, and so missed its cell, finds that cell
// among those changed after the value it saw.
TEST(DashboardChangesPgTest, ACellCommittedLaterIsStampedPastWhatReadersSawBefore) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase(), 4);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Execute(
      "INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) VALUES "
      "('ServerTasks-81', 81, 'Spaces-1', 'Deploy', 'Queued', 1), ('ServerTasks-82', 82, "
      "'Spaces-1', 'Deploy', 'Queued', 1)"));
  WriteCell(*db, "Projects-81", "ServerTasks-81");
  WriteCell(*db, "Projects-82", "ServerTasks-82");
  const int64_t before = ReadDashboardVersions(*db, "Spaces-1").value().version;
  // The slow writer changes its cell first and commits last.
  auto slow = db->Begin();
  ASSERT_TRUE(slow);
  ASSERT_TRUE(
      (*slow)->Execute("UPDATE server_tasks SET state = 'Failed' WHERE id = 'ServerTasks-81'"));
  ASSERT_TRUE(db->Execute("UPDATE server_tasks SET state = 'Success' WHERE id = 'ServerTasks-82'"));
  const int64_t seen = ReadDashboardVersions(*db, "Spaces-1").value().version;
  EXPECT_EQ(CellsChangedAfter(*db, before),
            (std::set<std::string>{"Projects-82/Environments-81=Success"}));
  ASSERT_TRUE((*slow)->Commit());
  EXPECT_EQ(CellsChangedAfter(*db, seen),
            (std::set<std::string>{"Projects-81/Environments-81=Failed"}))
      << "the slow writer's cell must be stamped after the counter value a reader saw before";
}

TEST(DashboardChangesPgTest, IsDisabledHasOneReading) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ASSERT_TRUE(db);
  ExpectIsDisabledReadOneWay(*db);
}

}  // namespace
}  // namespace cuttle::repo

namespace cuttle::repo {
namespace {

// The cell follows a task parked on an interruption (migration 0013's trigger): shown Executing
// with a pending interruption, and Queued again once un-parked.
TEST(DashboardChangesPgTest, ACellShowsAParkedTaskExecutingWithAPendingInterruption) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase(), 2);
  ASSERT_TRUE(db);
  ASSERT_TRUE(
      db->Execute("INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) VALUES "
                  "('ServerTasks-1', 1, 'Spaces-1', 'Deploy', 'Executing', 1)"));
  ASSERT_TRUE(db->Execute(
      "INSERT INTO dashboard_latest (project_id, environment_id, space_id, deployment_seq, "
      "deployment_id, release_id, release_version, channel_id, task_id, created, queue_time, "
      "state) VALUES ('Projects-1', 'Environments-1', 'Spaces-1', 1, 'Deployments-1', "
      "'Releases-1', '1.0.0', 'Channels-1', 'ServerTasks-1', 1, 1, 'Executing')"));
  const int64_t before = DashboardVersion(*db, "Spaces-1").value();
  ASSERT_TRUE(db->Execute(
      "UPDATE server_tasks SET state = 'Queued', parked = TRUE WHERE id = 'ServerTasks-1'"));
  auto items = DashboardItems(*db, "Spaces-1").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].state, "Executing");
  EXPECT_TRUE(items[0].has_pending_interruptions);
  EXPECT_GT(DashboardVersion(*db, "Spaces-1").value(), before);
  ASSERT_TRUE(db->Execute("UPDATE server_tasks SET parked = FALSE WHERE id = 'ServerTasks-1'"));
  items = DashboardItems(*db, "Spaces-1").value();
  EXPECT_EQ(items[0].state, "Queued");
  EXPECT_FALSE(items[0].has_pending_interruptions);
}

// Regression for the lock order: two transactions update two deployments' tasks in opposite
// orders while neither has committed. Had the counter been raised when each row changed, the
// first would hold the counter while waiting for the second's task row, and the second would wait
// for the counter: a deadlock. Deferred to commit, both commit.
TEST(DashboardChangesPgTest, TransactionsCrossingDeploymentTasksDoNotDeadlockOnTheCounter) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase(), 4);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Execute(
      "INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) VALUES "
      "('ServerTasks-1', 1, 'Spaces-1', 'Deploy', 'Queued', 1), ('ServerTasks-2', 2, 'Spaces-1', "
      "'Deploy', 'Queued', 1)"));
  for (const char* n : {"1", "2"}) {
    ASSERT_TRUE(db->Execute(
        std::string("INSERT INTO dashboard_latest (project_id, environment_id, space_id, "
                    "deployment_seq, deployment_id, release_id, release_version, channel_id, "
                    "task_id, created, queue_time, state) VALUES ('Projects-") +
        n + "', 'Environments-1', 'Spaces-1', 1, 'Deployments-" + n + "', 'Releases-1', '1.0.0', " +
        "'Channels-1', 'ServerTasks-" + n + "', 1, 1, 'Queued')"));
  }
  auto a = db->Begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(
      (*a)->Execute("UPDATE server_tasks SET state = 'Executing' WHERE id = 'ServerTasks-1'"));
  // B changes the second task: with the counter raised at once this would wait for A forever.
  auto b_updated =
      std::async(std::launch::async, [&]() -> Result<std::unique_ptr<db::Transaction>> {
        CUTTLE_TRY(auto b, db->Begin());
        CUTTLE_TRY_VOID(
            b->Execute("UPDATE server_tasks SET state = 'Failed' WHERE id = 'ServerTasks-2'"));
        return b;
      });
  if (b_updated.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    (*a)->Rollback();  // let B go, then fail
    b_updated.wait();
    FAIL() << "the second transaction waited for the first one's counter lock";
  }
  auto b = b_updated.get();
  ASSERT_TRUE(b) << b.error().message();
  // A now needs B's row: it waits until B commits, which takes the counter last and goes through.
  auto a_done = std::async(std::launch::async, [&]() -> Result<void> {
    CUTTLE_TRY_VOID(
        (*a)->Execute("UPDATE server_tasks SET state = 'Success' WHERE id = 'ServerTasks-2'"));
    return (*a)->Commit();
  });
  auto b_commit = (*b)->Commit();
  EXPECT_TRUE(b_commit) << b_commit.error().message();
  auto a_commit = a_done.get();
  EXPECT_TRUE(a_commit) << a_commit.error().message();
  EXPECT_EQ(db->Execute("SELECT state FROM dashboard_latest WHERE task_id = 'ServerTasks-2'")
                .value()
                .front()
                .GetString(0),
            "Success");
}

}  // namespace
}  // namespace cuttle::repo
