// Backend-independent pieces: Row, ValidateUrl, the retry schedule, SQLSTATE classification and
// the embedded migrations.
#include "db/database.h"

#include <gtest/gtest.h>

#include <set>

#include "db/internal/retry.h"
#include "db/migrations.h"
#include "db/postgres/pg_database.h"

namespace cuttle::db {
namespace {

Row MakeRow(std::vector<std::optional<std::string>> cells) {
  auto columns = std::make_shared<std::vector<std::string>>();
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string name = "c";
    name += std::to_string(i);
    columns->push_back(name);
  }
  return Row(columns, std::move(cells));
}

TEST(RowTest, ReadsPostgresAndSqliteText) {
  Row r = MakeRow({"42", "t", "true", "1", "0", "f", "2.5", std::nullopt, "-7", "abc"});
  EXPECT_EQ(r.GetInt(0), 42);
  EXPECT_TRUE(r.GetBool(1));
  EXPECT_TRUE(r.GetBool("c2"));
  EXPECT_TRUE(r.GetBool(3));
  EXPECT_FALSE(r.GetBool(4));
  EXPECT_FALSE(r.GetBool(5));
  EXPECT_DOUBLE_EQ(r.GetDouble("c6"), 2.5);
  EXPECT_EQ(r.GetInt(6), 2);
  EXPECT_TRUE(r.IsNull(7));
  EXPECT_EQ(r.GetInt(7), 0);
  EXPECT_EQ(r.GetString(7), "");
  EXPECT_EQ(r.GetOptionalInt("c7"), std::nullopt);
  EXPECT_EQ(r.GetOptionalInt("c8"), -7);
  EXPECT_EQ(r.GetOptionalString("c9"), "abc");
  EXPECT_EQ(r.GetInt(9), 0);
  EXPECT_EQ(r.size(), 10u);
}

TEST(ValidateUrlTest, AcceptsSqliteAndPostgresUris) {
  EXPECT_EQ(ValidateUrl("sqlite://./cuttle-data/cuttle.db").value(), Dialect::kSqlite);
  EXPECT_EQ(ValidateUrl("sqlite:///var/lib/cuttle/cuttle.db").value(), Dialect::kSqlite);
  EXPECT_EQ(ValidateUrl("postgres://u@localhost/db").value(), Dialect::kPostgres);
  EXPECT_EQ(ValidateUrl("postgresql://u:p@127.0.0.1:1,127.0.0.1:5432/db?target_session_attrs="
                        "read-write")
                .value(),
            Dialect::kPostgres);
}

TEST(ValidateUrlTest, RejectsOthersSayingWhatIsExpected) {
  for (const char* bad :
       {"mysql://x", "sqlite://", "", "cuttle.db", "postgresql://u@host/db?not_a_libpq_option=1"}) {
    auto r = ValidateUrl(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("expected sqlite://PATH or postgresql://"),
              std::string::npos)
        << r.error().message();
  }
  EXPECT_NE(ValidateUrl("mysql://x").error().message().find("'mysql'"), std::string::npos);
  // A password in a bad URI is not echoed back.
  auto r = ValidateUrl("postgresql://u:secret@host/db?bogus=1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().find("secret"), std::string::npos);
}

TEST(OpenTest, UnreachablePostgresIsUnavailableAtOnce) {
  OpenOptions o;
  o.url = "postgresql://cuttle@127.0.0.1:1/none?connect_timeout=2";
  auto start = std::chrono::steady_clock::now();
  auto db = Open(o);
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code(), ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(RetryTest, BackoffStartsAt50msDoublesAndCapsAt1s) {
  using std::chrono::milliseconds;
  EXPECT_EQ(internal::BackoffDelay(1), milliseconds(50));
  EXPECT_EQ(internal::BackoffDelay(2), milliseconds(100));
  EXPECT_EQ(internal::BackoffDelay(3), milliseconds(200));
  EXPECT_EQ(internal::BackoffDelay(5), milliseconds(800));
  EXPECT_EQ(internal::BackoffDelay(6), milliseconds(1000));
  EXPECT_EQ(internal::BackoffDelay(1000), milliseconds(1000));
}

TEST(RetryTest, RetriesOnlyUnavailableWithinBudget) {
  int calls = 0;
  auto ok = internal::RetryTransient("op", std::chrono::seconds(5), [&]() -> Result<int> {
    if (++calls < 3) {
      return Fail(Error::Unavailable("down"));
    }
    return 7;
  });
  EXPECT_EQ(ok.value_or(0), 7);
  EXPECT_EQ(calls, 3);

  calls = 0;
  auto permanent = internal::RetryTransient("op", std::chrono::seconds(5), [&]() -> Result<int> {
    ++calls;
    return Fail(Error::Database("syntax"));
  });
  EXPECT_EQ(permanent.error().code(), ErrorCode::kDatabase);
  EXPECT_EQ(calls, 1);

  calls = 0;
  auto exhausted =
      internal::RetryTransient("op", std::chrono::milliseconds(120), [&]() -> Result<int> {
        ++calls;
        return Fail(Error::Unavailable("down"));
      });
  EXPECT_EQ(exhausted.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(exhausted.error().message().find("down"), std::string::npos);
  EXPECT_EQ(calls, 2);  // 50 ms pause fits in 120 ms, the next 100 ms does not
}

// Start-up errors name where database.url points; a PostgreSQL password must never be shown.
TEST(DescribeUrlTest, NamesThePathOrUserHostAndDatabaseWithoutThePassword) {
  EXPECT_EQ(DescribeUrl("sqlite:///var/lib/cuttle/cuttle.db"), "/var/lib/cuttle/cuttle.db");
  EXPECT_EQ(DescribeUrl("postgresql://cuttle:s3cret@db1:5433/cuttle?sslmode=require"),
            "cuttle@db1:5433/cuttle");
  EXPECT_EQ(DescribeUrl("postgresql://cuttle:s3cret@db1:5432,db2:5432/prod"),
            "cuttle@db1,db2:5432,5432/prod");
  EXPECT_EQ(DescribeUrl("postgres://db1/x"), "db1/x");
  EXPECT_EQ(DescribeUrl("postgresql://cuttle:s3cret@db1/x").find("s3cret"), std::string::npos);
}

TEST(PostgresTest, TransientSqlStates) {
  for (const char* s :
       {"08000", "08006", "08001", "57P01", "57P02", "57P03", "40001", "40P01", "25006", "53300"}) {
    EXPECT_TRUE(postgres::IsTransientSqlState(s)) << s;
  }
  for (const char* s : {"23505", "42601", "25P02", "57014", "53100", "08P01"}) {
    EXPECT_FALSE(postgres::IsTransientSqlState(s)) << s;
  }
}

TEST(MigrationsTest, EveryVersionExistsForBothDialectsInOrder) {
  auto pg = BuiltInMigrations(Dialect::kPostgres);
  auto lite = BuiltInMigrations(Dialect::kSqlite);
  ASSERT_FALSE(pg.empty());
  ASSERT_EQ(pg.size(), lite.size());
  for (size_t i = 0; i < pg.size(); ++i) {
    EXPECT_EQ(pg[i].version, static_cast<int>(i + 1)) << "versions are 1, 2, 3... without gaps";
    EXPECT_EQ(pg[i].version, lite[i].version);
    EXPECT_EQ(pg[i].name, lite[i].name);
  }
  EXPECT_EQ(LatestSchemaVersion(), pg.back().version);
  EXPECT_EQ(pg[0].name, "0001_foundation");
  EXPECT_NE(pg[0].sql.find("CREATE OR REPLACE FUNCTION now_ms()"), std::string::npos);
  EXPECT_EQ(lite[0].sql.find("now_ms() RETURNS"), std::string::npos);
  EXPECT_NE(lite[0].sql.find("CREATE TABLE server_nodes"), std::string::npos);
}

}  // namespace
}  // namespace cuttle::db
