// Numbered schema migrations, embedded in the binary from src/db/migrations/NNNN_name.sql.
// A file may be split by dialect: NNNN_name.pg.sql and NNNN_name.sqlite.sql. Each is applied once,
// in order, in its own transaction, and recorded in schema_migrations(version, name, applied_at).
// Concurrent nodes starting at once are serialised (PostgreSQL advisory lock; SQLite writer lock).
//
// Migrations are written expand-then-contract: a new column or table is added in release N and an
// old one dropped no earlier than release N+1, so the previous release keeps working on the new
// schema during a rolling upgrade.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;  // already chosen for the dialect
};

// The migrations compiled into this binary for `dialect`, in version order.
std::vector<Migration> BuiltInMigrations(Dialect dialect);

// The highest version this binary knows.
int LatestSchemaVersion();

// The highest version applied to `db` (0 for an empty database).
Result<int> CurrentSchemaVersion(Database& db);

// Applies every pending migration. Fails (kConflict) if the database has a version newer than
// this binary knows, naming both versions.
Result<int> Migrate(Database& db);
// Applies pending migrations up to `target` only (tests of a migration's data step build the
// schema as it was before it).
Result<int> MigrateTo(Database& db, int target);

}  // namespace cuttle::db
