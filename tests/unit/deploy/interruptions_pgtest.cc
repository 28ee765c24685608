// Parking and the interruptions store on PostgreSQL (the checks: interruptions_checks.h).
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cuttle::deploy
