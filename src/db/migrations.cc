#include "db/migrations.h"

#include <algorithm>
#include <map>

#include "core/log.h"
#include "db/internal/embedded_migrations.h"
#include "db/internal/script_runner.h"

namespace cuttle::db {

namespace {

// Serialises migrators on PostgreSQL (pg_advisory_xact_lock); an arbitrary fixed key.
constexpr int64_t kMigrationLockKey = 0x637574746c65'01;  // "cuttle" + 1

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

// Takes the migration lock for the rest of `tx` (PostgreSQL; on SQLite the writer lock taken by
// BEGIN IMMEDIATE already serialises).
Result<void> LockForMigration(Database& db, Transaction& tx) {
  if (db.dialect() == Dialect::kPostgres) {
    CUTTLE_TRY_VOID(tx.Execute("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey}));
  }
  return {};
}

Result<bool> TableExists(Database& db) {
  const char* sql = db.dialect() == Dialect::kPostgres
                        ? "SELECT to_regclass('schema_migrations') IS NOT NULL"
                        : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                          "name = 'schema_migrations'";
  CUTTLE_TRY(ResultSet rs, db.Execute(sql));
  return rs.front().GetBool(0);
}

}  // namespace

std::vector<Migration> BuiltInMigrations(Dialect dialect) {
  const std::string_view mine = dialect == Dialect::kPostgres ? "pg" : "sqlite";
  // Every version exists in both dialects (possibly empty), so both record the same versions.
  // A version's SQL is its shared file followed by this dialect's file.
  std::map<int, Migration> by_version;
  for (const auto& file : internal::EmbeddedMigrations()) {
    auto [it, added] = by_version.try_emplace(file.version, Migration{file.version, file.name, ""});
    const std::string_view d = file.dialect;
    if (d.empty()) {
      it->second.sql.insert(0, std::string(file.sql) + "\n");
    } else if (d == mine) {
      it->second.sql += file.sql;
    }
  }
  std::vector<Migration> out;
  for (auto& [version, migration] : by_version) {
    out.push_back(std::move(migration));
  }
  return out;
}

int LatestSchemaVersion() {
  int latest = 0;
  for (const auto& file : internal::EmbeddedMigrations()) {
    latest = std::max(latest, file.version);
  }
  return latest;
}

Result<int> CurrentSchemaVersion(Database& db) {
  CUTTLE_TRY(bool exists, TableExists(db));
  if (!exists) {
    return 0;
  }
  CUTTLE_TRY(ResultSet rs, db.Execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(rs.front().GetInt(0));
}

Result<int> Migrate(Database& db) { return MigrateTo(db, LatestSchemaVersion()); }

Result<int> MigrateTo(Database& db, int target) {
  // Up to date: write nothing, so a node whose database user may only read and write rows (no
  // CREATE on the schema) starts once the schema has been migrated by a user who may.
  CUTTLE_TRY(int before, CurrentSchemaVersion(db));
  if (before >= target && before <= LatestSchemaVersion()) {
    return before;
  }
  // In a locked transaction: concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL.
  CUTTLE_TRY_VOID(db.InTransaction([&](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(LockForMigration(db, tx));
    CUTTLE_TRY_VOID(tx.Execute(kCreateTable));
    return {};
  }));
  CUTTLE_TRY(int current, CurrentSchemaVersion(db));
  const int latest = LatestSchemaVersion();
  if (current > latest) {
    return Fail(Error::Conflict("database schema version " + std::to_string(current) +
                                " is newer than this build knows (" + std::to_string(latest) +
                                "); run a Cuttle release that supports it"));
  }
  for (const Migration& m : BuiltInMigrations(db.dialect())) {
    if (m.version <= current || m.version > target) {
      continue;
    }
    CUTTLE_TRY(int64_t now, db.NowMillis());
    bool applied_now = false;
    CUTTLE_TRY_VOID(db.InTransaction([&](Transaction& tx) -> Result<void> {
      applied_now = false;
      CUTTLE_TRY_VOID(LockForMigration(db, tx));
      // Another node may have applied it while we waited for the lock.
      CUTTLE_TRY(ResultSet done, tx.Execute("SELECT 1 FROM schema_migrations WHERE version = $1",
                                            {int64_t{m.version}}));
      if (!done.empty()) {
        return {};
      }
      if (!m.sql.empty()) {
        auto* runner = dynamic_cast<internal::ScriptRunner*>(&tx);
        if (runner == nullptr) {
          return Fail(Error::Internal("this Database cannot run migration scripts"));
        }
        if (auto r = runner->ExecuteScript(m.sql); !r) {
          return Fail(r.error().Wrap("migration " + m.name));
        }
      }
      CUTTLE_TRY_VOID(tx.Execute(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
          {int64_t{m.version}, m.name, now}));
      applied_now = true;
      return {};
    }));
    if (applied_now) {
      CUTTLE_LOG_INFO("applied database migration {}", m.name);
    }
  }
  return CurrentSchemaVersion(db);
}

}  // namespace cuttle::db
