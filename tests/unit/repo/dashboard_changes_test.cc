// The dashboard's change counter on SQLite (the checks: dashboard_changes_checks.h).
#include <gtest/gtest.h>

#include "dashboard_changes_checks.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

TEST(DashboardChangesTest, EveryRowTheDashboardShowsRaisesItsSpacesCounterOnCommit) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  ExpectCounterFollowsDashboardRows(*db);
}

TEST(DashboardChangesTest, EveryCellCarriesTheCounterValueItsCommitRaised) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  ExpectCellsCarryTheCounterOfTheirCommit(*db);
}

TEST(DashboardChangesTest, IsDisabledHasOneReading) {
  testing::TempDir dir;
  auto db = testing::NewSqlite(dir);
  ExpectIsDisabledReadOneWay(*db);
}

}  // namespace
}  // namespace cuttle::repo
