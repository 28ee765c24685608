// Users and sign-in on SQLite (users_api_checks.h has the suite).
#include "testing/test_db.h"

namespace cuttle::api {
std::unique_ptr<db::Database> NewUsersDatabase(const testing::TempDir& dir) {
  return testing::NewSqlite(dir);
}
}  // namespace cuttle::api

#include "api/nodes_api_checks.h"
#include "api/users_api_checks.h"
