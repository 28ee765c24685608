// The release model's repository on SQLite (the checks: release_model_checks.h).
#include <gtest/gtest.h>

#include "release_model_checks.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

class ReleaseModelTest : public ::testing::Test {
 protected:
  ReleaseModelTest() : db_(testing::NewSqlite(dir_)) {}
  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
};

TEST_F(ReleaseModelTest, StaleRunbookEditIsRefused) { ExpectStaleRunbookEditIsRefused(*db_); }

TEST_F(ReleaseModelTest, StaleReleaseEditIsRefused) { ExpectStaleReleaseEditIsRefused(*db_); }

TEST_F(ReleaseModelTest, ConcurrentUnnamedSnapshotsGetDistinctNames) {
  ExpectConcurrentUnnamedSnapshotsGetDistinctNames(*db_, 6);
}

TEST_F(ReleaseModelTest, DeletesLeaveNoFrozenRows) { ExpectDeletesLeaveNoFrozenRows(*db_); }

TEST_F(ReleaseModelTest, FreezeCopiesEverySet) { ExpectFreezeCopiesEverySet(*db_); }

TEST_F(ReleaseModelTest, ListsSortByBytes) { ExpectListsSortByBytes(*db_); }

TEST_F(ReleaseModelTest, ActiveRunbookRunsAreFound) { ExpectActiveRunbookRunsAreFound(*db_); }

TEST_F(ReleaseModelTest, UnchangedReleaseVersionSkipsTheDuplicateCheck) {
  ExpectUnchangedReleaseVersionSkipsTheDuplicateCheck(*db_);
}

}  // namespace
}  // namespace cuttle::repo
