// GET /raw with offset and limit on SQLite (task_raw_checks.h has the suite).
#include "testing/test_db.h"

namespace cuttle::api {
std::unique_ptr<db::Database> NewRawDatabase(const testing::TempDir& dir) {
  return testing::NewSqlite(dir);
}
}  // namespace cuttle::api

#include "api/task_raw_checks.h"
