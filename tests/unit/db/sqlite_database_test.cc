#include "db/sqlite/sqlite_database.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "database_contract.h"
#include "db/database.h"
#include "db/migrations.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::db {
namespace {

// A fresh database file (in a directory that does not exist yet) per test.
class SqliteEnv {
 public:
  OpenOptions Options() const {
    OpenOptions o;
    o.url = "sqlite://" + dir_.Sub("data/cuttle.db");
    o.retry_budget = std::chrono::seconds(10);
    return o;
  }

 private:
  testing::TempDir dir_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DatabaseContractTest, SqliteEnv);

// A database the node may not write must be told apart from other failures, so start-up can
// name database.url instead of failing half-way with SQLite's message.
TEST(SqliteDatabaseTest, AWriteToAReadOnlyDatabaseIsPermissionDenied) {
  testing::TempDir dir;
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("c.db");
  o.pool_size = 1;  // PRAGMA query_only holds for the one connection
  auto db = Open(o);
  ASSERT_TRUE(db.has_value()) << db.error().message();
  ASSERT_TRUE((*db)->Execute("PRAGMA query_only = ON"));
  auto r = (*db)->Execute("CREATE TABLE t (a INTEGER)");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kPermissionDenied) << r.error().message();
}

// Migrating an up-to-date database used to write (CREATE TABLE IF NOT EXISTS in a write
// transaction), so a node whose database user may only change rows could not start at all.
TEST(SqliteDatabaseTest, MigratingAnUpToDateDatabaseWritesNothing) {
  testing::TempDir dir;
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("c.db");
  o.pool_size = 1;
  auto db = Open(o);
  ASSERT_TRUE(db.has_value()) << db.error().message();
  ASSERT_EQ(Migrate(**db), LatestSchemaVersion());
  ASSERT_TRUE((*db)->Execute("PRAGMA query_only = ON"));
  auto again = Migrate(**db);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, LatestSchemaVersion());
}

TEST(SqliteDatabaseTest, CreatesDirectoryAndFileAndUsesWal) {
  testing::TempDir dir;
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("a/b/c.db");
  auto db = Open(o);
  ASSERT_TRUE(db.has_value()) << db.error().message();
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("a/b/c.db")));
  EXPECT_EQ((*db)->dialect(), Dialect::kSqlite);
  auto mode = (*db)->Execute("PRAGMA journal_mode");
  ASSERT_TRUE(mode.has_value());
  EXPECT_EQ(mode->front().GetString(0), "wal");
  auto fk = (*db)->Execute("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.has_value());
  EXPECT_TRUE(fk->front().GetBool(0));
}

TEST(SqliteDatabaseTest, UnwritablePathFailsAtOpen) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("file-not-dir"));
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("file-not-dir");  // a directory cannot be opened as a database
  auto db = Open(o);
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), ErrorCode::kDatabase);
}

TEST(SqliteDatabaseTest, NowMsFollowsTheInjectedClock) {
  testing::TempDir dir;
  testing::FakeClock clock(1'800'000'000'000);
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("cuttle.db");
  o.clock = &clock;
  auto db = Open(o);
  ASSERT_TRUE(db.has_value()) << db.error().message();
  EXPECT_EQ((*db)->NowMillis().value_or(0), 1'800'000'000'000);
  clock.Advance(std::chrono::milliseconds(1500));
  auto rs = (*db)->Execute("SELECT now_ms() - $1 AS d", {int64_t{1'800'000'000'000}});
  ASSERT_TRUE(rs.has_value()) << rs.error().message();
  EXPECT_EQ(rs->front().GetInt("d"), 1500);
  // Every pooled connection has the function, in transactions too.
  auto tx = (*db)->Begin();
  ASSERT_TRUE(tx.has_value());
  auto in_tx = (*tx)->Execute("SELECT now_ms()");
  ASSERT_TRUE(in_tx.has_value());
  EXPECT_EQ(in_tx->front().GetInt(0), 1'800'000'001'500);
}

TEST(SqliteDatabaseTest, WritersFromManyThreadsAreSerialised) {
  testing::TempDir dir;
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("cuttle.db");
  o.pool_size = 4;
  auto opened = Open(o);
  ASSERT_TRUE(opened.has_value());
  Database& db = **opened;
  ASSERT_TRUE(db.Execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT)").has_value());
  ASSERT_TRUE(db.Execute("INSERT INTO counter VALUES (1, 0)").has_value());
  constexpr int kThreads = 8, kIncrements = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        // Read-modify-write: loses updates unless transactions are serialised.
        auto r = db.InTransaction([](Transaction& tx) -> Result<void> {
          CUTTLE_TRY(ResultSet rs, tx.Execute("SELECT n FROM counter WHERE id = 1"));
          CUTTLE_TRY_VOID(
              tx.Execute("UPDATE counter SET n = $1 WHERE id = 1", {rs.front().GetInt(0) + 1}));
          return {};
        });
        EXPECT_TRUE(r.has_value()) << r.error().message();
        EXPECT_TRUE(db.Execute("SELECT count(*) FROM counter").has_value());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(db.Execute("SELECT n FROM counter").value().front().GetInt(0), kThreads * kIncrements);
}

TEST(SqliteDatabaseTest, ExecuteTakesOneStatement) {
  testing::TempDir dir;
  OpenOptions o;
  o.url = "sqlite://" + dir.Sub("cuttle.db");
  auto db = Open(o);
  ASSERT_TRUE(db.has_value());
  EXPECT_TRUE((*db)->Execute("SELECT 1;  ").has_value());
  auto two = (*db)->Execute("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().code(), ErrorCode::kDatabase);
}

TEST(SqliteDatabaseTest, RewritePlaceholders) {
  using sqlite::RewritePlaceholders;
  EXPECT_EQ(RewritePlaceholders("SELECT $1, $12 FROM t WHERE a=$2"),
            "SELECT ?1, ?12 FROM t WHERE a=?2");
  EXPECT_EQ(RewritePlaceholders("SELECT '$1', \"$2\", 'it''s $3' -- $4\n, $5 /* $6 */ $7"),
            "SELECT '$1', \"$2\", 'it''s $3' -- $4\n, ?5 /* $6 */ ?7");
  EXPECT_EQ(RewritePlaceholders("SELECT $a, $, 'unterminated $1"),
            "SELECT $a, $, 'unterminated $1");
}

}  // namespace
}  // namespace cuttle::db
