// The dashboard's cells (dashboard_latest) follow the deployments written and deleted, and a
// release's successful environments come from its deployments' tasks. SQLite.
#include "repo/deployments.h"

#include <gtest/gtest.h>

#include "repo/releases.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

class DeploymentsTest : public ::testing::Test {
 protected:
  DeploymentsTest() : db_(testing::NewSqlite(dir_)) {}

  std::string Release(const std::string& project, const std::string& version) {
    ReleaseRow r;
    r.space_id = "Spaces-1";
    r.project_id = project;
    r.channel_id = "Channels-1";
    r.version = version;
    EXPECT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
      CUTTLE_TRY(r, InsertRelease(tx, r));
      return {};
    }));
    return r.id;
  }

  // A deployment with a task in `state`.
  std::string Deploy(const std::string& release, const std::string& project, const std::string& env,
                     const std::string& state) {
    DeploymentRow d;
    EXPECT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
      const std::string task = "ServerTasks-" + std::to_string(++tasks_);
      CUTTLE_TRY_VOID(
          tx.Execute("INSERT INTO server_tasks (id, seq, space_id, name, state, "
                     "queue_time) VALUES ($1, $2, 'Spaces-1', 'Deploy', $3, 1)",
                     {task, tasks_, state}));
      d = DeploymentRow{};
      d.space_id = "Spaces-1";
      d.project_id = project;
      d.environment_id = env;
      d.release_id = release;
      d.channel_id = "Channels-1";
      d.task_id = task;
      CUTTLE_TRY(d, InsertDeployment(tx, d));
      return {};
    }));
    return d.id;
  }

  std::map<std::string, std::string> Cells() {
    std::map<std::string, std::string> out;
    const auto items = DashboardItems(*db_, "Spaces-1").value();
    for (const auto& i : items) {
      out[i.project_id + "/" + i.environment_id] =
          i.deployment_id + " " + i.release_version + " " + i.state;
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  int64_t tasks_ = 0;
};

TEST_F(DeploymentsTest, EachCellShowsTheNewestDeploymentOfItsProjectAndEnvironment) {
  const auto r1 = Release("Projects-1", "1.0.0");
  const auto r2 = Release("Projects-1", "1.0.1");
  Deploy(r1, "Projects-1", "Environments-1", "Success");
  Deploy(r1, "Projects-1", "Environments-2", "Success");
  const auto newest = Deploy(r2, "Projects-1", "Environments-1", "Failed");
  EXPECT_EQ(Cells(), (std::map<std::string, std::string>{
                         {"Projects-1/Environments-1", newest + " 1.0.1 Failed"},
                         {"Projects-1/Environments-2", "Deployments-2 1.0.0 Success"}}));
  auto previous = DashboardPreviousItems(*db_, "Spaces-1").value();
  ASSERT_EQ(previous.size(), 1u);
  EXPECT_EQ(previous[0].deployment_id, "Deployments-1");
}

TEST_F(DeploymentsTest, ACellFollowsItsTaskAndItsReleaseVersion) {
  const auto r1 = Release("Projects-1", "1.0.0");
  const auto d = Deploy(r1, "Projects-1", "Environments-1", "Queued");
  ASSERT_TRUE(
      db_->Execute("UPDATE server_tasks SET state = 'Success', completed_time = 5 WHERE id = "
                   "'ServerTasks-1'"));
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    return SetDashboardReleaseVersion(tx, r1, "1.0.0-renamed");
  }));
  EXPECT_EQ(Cells()["Projects-1/Environments-1"], d + " 1.0.0-renamed Success");
  const auto items = DashboardItems(*db_, "Spaces-1").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].completed_time, 5);
}

// A deployment parked on an interruption (its task Queued with `parked`, migration 0012) is shown
// Executing with a pending interruption, in its cell, its release's items and the taskState filter.
TEST_F(DeploymentsTest, AParkedDeploymentIsShownExecutingWithAPendingInterruption) {
  const auto r1 = Release("Projects-1", "1.0.0");
  const auto d = Deploy(r1, "Projects-1", "Environments-1", "Executing");
  ASSERT_TRUE(db_->Execute(
      "UPDATE server_tasks SET state = 'Queued', parked = TRUE WHERE id = 'ServerTasks-1'"));
  EXPECT_EQ(Cells()["Projects-1/Environments-1"], d + " 1.0.0 Executing");
  auto items = DashboardItems(*db_, "Spaces-1").value();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(items[0].has_pending_interruptions);
  auto of_release = ReleaseDeploymentItems(*db_, r1).value();
  ASSERT_EQ(of_release.size(), 1u);
  EXPECT_EQ(of_release[0].state, "Executing");
  EXPECT_TRUE(of_release[0].has_pending_interruptions);
  DeploymentFilter f;
  f.space_id = "Spaces-1";
  f.task_states = {"Executing"};
  EXPECT_EQ(ListDeployments(*db_, f, PageQuery{}).value().total, 1);
  f.task_states = {"Queued"};
  EXPECT_EQ(ListDeployments(*db_, f, PageQuery{}).value().total, 0);

  // A newer deployment deleted: the cell is rebuilt from the parked one, shown the same way.
  const auto newer = Deploy(r1, "Projects-1", "Environments-1", "Queued");
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, DeleteDeployment(tx, newer));
    EXPECT_TRUE(deleted);
    return {};
  }));
  EXPECT_EQ(Cells()["Projects-1/Environments-1"], d + " 1.0.0 Executing");
  EXPECT_TRUE(DashboardItems(*db_, "Spaces-1").value()[0].has_pending_interruptions);

  // Answered: Queued again until a node resumes it.
  ASSERT_TRUE(db_->Execute("UPDATE server_tasks SET parked = FALSE WHERE id = 'ServerTasks-1'"));
  EXPECT_EQ(Cells()["Projects-1/Environments-1"], d + " 1.0.0 Queued");
  EXPECT_FALSE(DashboardItems(*db_, "Spaces-1").value()[0].has_pending_interruptions);
}

TEST_F(DeploymentsTest, DeletingTheNewestPutsThePreviousBackAndDeletingTheLastClearsTheCell) {
  const auto r1 = Release("Projects-1", "1.0.0");
  const auto first = Deploy(r1, "Projects-1", "Environments-1", "Success");
  const auto second = Deploy(r1, "Projects-1", "Environments-1", "Success");
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto deleted, DeleteDeployment(tx, second));
    EXPECT_TRUE(deleted);
    return {};
  }));
  EXPECT_EQ(Cells()["Projects-1/Environments-1"], first + " 1.0.0 Success");
  ASSERT_TRUE(db_->InTransaction(
      [&](db::Transaction& tx) -> Result<void> { return DeleteDeploymentsOfRelease(tx, r1); }));
  EXPECT_TRUE(Cells().empty());
}

TEST_F(DeploymentsTest, SucceededEnvironmentsCountOnlySuccessfulTasksOfTheRelease) {
  const auto r1 = Release("Projects-1", "1.0.0");
  const auto r2 = Release("Projects-1", "2.0.0");
  Deploy(r1, "Projects-1", "Environments-1", "Success");
  Deploy(r1, "Projects-1", "Environments-2", "Failed");
  Deploy(r1, "Projects-1", "Environments-3", "Executing");
  Deploy(r2, "Projects-1", "Environments-4", "Success");
  EXPECT_EQ(SucceededEnvironments(*db_, r1).value(), (std::set<std::string>{"Environments-1"}));
}

TEST_F(DeploymentsTest, AVersionIsUniquePerProjectWhateverItsCase) {
  Release("Projects-1", "1.0.0-Beta");
  ReleaseRow dup;
  dup.space_id = "Spaces-1";
  dup.project_id = "Projects-1";
  dup.channel_id = "Channels-1";
  dup.version = "1.0.0-beta";
  auto r = db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(InsertRelease(tx, dup));
    return {};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  dup.project_id = "Projects-2";
  EXPECT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(InsertRelease(tx, dup));
    return {};
  }));
}

}  // namespace
}  // namespace cuttle::repo
