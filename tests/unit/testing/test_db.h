// Fresh, migrated databases for tests: SQLite in a temp dir (optionally on a FakeClock), or a new
// PostgreSQL database on the server `make test` started.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "db/database.h"
#include "testing/temp_dir.h"

namespace cuttle::testing {

// An empty SQLite database in `dir`, no migration applied.
std::unique_ptr<db::Database> NewSqliteUnmigrated(const TempDir& dir);
std::unique_ptr<db::Database> NewSqlite(const TempDir& dir, core::Clock* clock = nullptr);
// Creates a uniquely named database (CUTTLE_TEST_PG_ADMIN_URL) and returns its URL.
std::string NewPostgresDatabase();
std::unique_ptr<db::Database> OpenMigrated(const std::string& url, int pool_size = 8);

}  // namespace cuttle::testing
