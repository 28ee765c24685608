#include "optimistic_save.h"

#include "testing/test_db.h"

namespace cuttle::testing {
namespace {

TEST(OptimisticSaveSqliteTest, OneOfTwoProcessSavesWins) {
  TempDir dir;
  auto db = NewSqlite(dir);
  ExpectOneOfTwoProcessSavesWins(*db);
}

TEST(OptimisticSaveSqliteTest, StaleVariableSetSaveChangesNothing) {
  TempDir dir;
  auto db = NewSqlite(dir);
  ExpectStaleVariableSetSaveChangesNothing(*db);
}

}  // namespace
}  // namespace cuttle::testing
