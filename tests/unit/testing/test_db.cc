#include "testing/test_db.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "db/migrations.h"

namespace cuttle::testing {

std::unique_ptr<db::Database> OpenMigrated(const std::string& url, int pool_size) {
  db::OpenOptions o;
  o.url = url;
  o.pool_size = pool_size;
  o.retry_budget = std::chrono::milliseconds(5000);
  auto database = db::Open(o);
  if (!database) {
    ADD_FAILURE() << "cannot open " << url << ": " << database.error().message();
    return nullptr;
  }
  auto migrated = db::Migrate(**database);
  if (!migrated) ADD_FAILURE() << "migrate: " << migrated.error().message();
  return std::move(*database);
}

std::unique_ptr<db::Database> NewSqliteUnmigrated(const TempDir& dir) {
  db::OpenOptions o;
  o.url = "sqlite://" + dir.Sub("test.db");
  auto database = db::Open(o);
  if (!database) {
    ADD_FAILURE() << database.error().message();
    return nullptr;
  }
  return std::move(*database);
}

std::unique_ptr<db::Database> NewSqlite(const TempDir& dir, core::Clock* clock) {
  db::OpenOptions o;
  o.url = "sqlite://" + dir.Sub("test.db");
  if (clock) o.clock = clock;
  auto database = db::Open(o);
  if (!database) {
    ADD_FAILURE() << database.error().message();
    return nullptr;
  }
  auto migrated = db::Migrate(**database);
  if (!migrated) ADD_FAILURE() << "migrate: " << migrated.error().message();
  return std::move(*database);
}

std::string NewPostgresDatabase() {
  static std::atomic<int> counter{0};
  const char* admin = std::getenv("CUTTLE_TEST_PG_ADMIN_URL");
  if (admin == nullptr) {
    ADD_FAILURE() << "CUTTLE_TEST_PG_ADMIN_URL is not set: run through `make test`";
    return "postgresql://invalid-host-for-tests:1/none";
  }
  std::string name = fmt::format("t_{}_{}_{}", ::getpid(), counter++, ::time(nullptr));
  db::OpenOptions o;
  o.url = admin;
  o.pool_size = 1;
  auto database = db::Open(o);
  if (!database) {
    ADD_FAILURE() << "cannot reach PostgreSQL: " << database.error().message();
    return "postgresql://invalid-host-for-tests:1/none";
  }
  auto created = (*database)->Execute("CREATE DATABASE " + name);
  if (!created) ADD_FAILURE() << created.error().message();
  std::string url = admin;
  return url.substr(0, url.rfind('/') + 1) + name;
}

}  // namespace cuttle::testing
