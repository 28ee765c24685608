// The release model's repository on PostgreSQL, where concurrent transactions really interleave
// (the checks: release_model_checks.h).
#include <gtest/gtest.h>

#include "release_model_checks.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

TEST(ReleaseModelPgTest, StaleRunbookEditIsRefused) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectStaleRunbookEditIsRefused(*db);
}

TEST(ReleaseModelPgTest, StaleReleaseEditIsRefused) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectStaleReleaseEditIsRefused(*db);
}

TEST(ReleaseModelPgTest, ConcurrentUnnamedSnapshotsGetDistinctNames) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    // A fresh runbook each round (its name is the round's).
    ExpectConcurrentUnnamedSnapshotsGetDistinctNames(*db, 6);
    ASSERT_TRUE(db->Execute("DELETE FROM runbooks"));
    ASSERT_TRUE(db->Execute("DELETE FROM runbook_snapshots"));
  }
}

TEST(ReleaseModelPgTest, DeletesLeaveNoFrozenRows) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectDeletesLeaveNoFrozenRows(*db);
}

TEST(ReleaseModelPgTest, FreezeCopiesEverySet) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectFreezeCopiesEverySet(*db);
}

TEST(ReleaseModelPgTest, ListsSortByBytes) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectListsSortByBytes(*db);
}

TEST(ReleaseModelPgTest, ActiveRunbookRunsAreFound) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectActiveRunbookRunsAreFound(*db);
}

TEST(ReleaseModelPgTest, UnchangedReleaseVersionSkipsTheDuplicateCheck) {
  auto db = testing::OpenMigrated(testing::NewPostgresDatabase());
  ExpectUnchangedReleaseVersionSkipsTheDuplicateCheck(*db);
}

}  // namespace
}  // namespace cuttle::repo
