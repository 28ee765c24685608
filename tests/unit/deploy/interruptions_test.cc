// Parking and the interruptions store on SQLite (the checks: interruptions_checks.h).
#include <gtest/gtest.h>

#include "interruptions_checks.h"
#include "testing/test_db.h"

namespace cuttle::deploy {
namespace {

TEST(InterruptionsTest, ParkedTaskIsUnclaimableHoldsItsTagAndNeverExpiresOrOrphans) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::ParkedTaskIsUnclaimableHoldsItsTagAndNeverExpiresOrOrphans(*db);
}

TEST(InterruptionsTest, RaiseAndParkIsFenced) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::RaiseAndParkIsFenced(*db);
}

TEST(InterruptionsTest, RaisingAgainReusesTheRow) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::RaisingAgainReusesTheRow(*db);
}

TEST(InterruptionsTest, SubmitValidatesTheAnswer) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::SubmitValidatesTheAnswer(*db);
}

TEST(InterruptionsTest, ResponsibilityDecidesWhoAnswers) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::ResponsibilityDecidesWhoAnswers(*db);
}

TEST(InterruptionsTest, SubmitUnparksTheTaskForANewClaim) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::SubmitUnparksTheTaskForANewClaim(*db);
}

TEST(InterruptionsTest, CancellingAParkedTaskEndsItAndClosesItsInterruptions) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::CancellingAParkedTaskEndsItAndClosesItsInterruptions(*db);
}

TEST(InterruptionsTest, ListsAndPendingTypes) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::ListsAndPendingTypes(*db);
}

TEST(InterruptionsTest, TaskListShowsParkedTasksAsExecuting) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::TaskListShowsParkedTasksAsExecuting(*db);
}

TEST(InterruptionsTest, AnAnswerToACancelledTaskIsRefused) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::AnAnswerToACancelledTaskIsRefused(*db);
}

TEST(InterruptionsTest, AStartedDeploymentOutlivesItsQueueExpiry) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  checks::AStartedDeploymentOutlivesItsQueueExpiry(*db);
}

}  // namespace
}  // namespace cuttle::deploy
