// GET /raw with offset and limit on PostgreSQL (task_raw_checks.h has the suite).
#include "testing/test_db.h"

namespace cuttle::api {
std::unique_ptr<db::Database> NewRawDatabase(const testing::TempDir&) {
  return testing::OpenMigrated(testing::NewPostgresDatabase());
}
}  // namespace cuttle::api

#include "api/task_raw_checks.h"
