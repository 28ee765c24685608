#include "optimistic_save.h"
#include "testing/test_db.h"

namespace cuttle::testing {
namespace {

TEST(OptimisticSavePostgresTest, OneOfTwoProcessSavesWins) {
  auto db = OpenMigrated(NewPostgresDatabase());
  ExpectOneOfTwoProcessSavesWins(*db);
}

TEST(OptimisticSavePostgresTest, StaleVariableSetSaveChangesNothing) {
  auto db = OpenMigrated(NewPostgresDatabase());
  ExpectStaleVariableSetSaveChangesNothing(*db);
}

}  // namespace
}  // namespace cuttle::testing
