#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "database_contract.h"
#include "db/database.h"
#include "db/migrations.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::db {
namespace {

std::string AdminUrl() {
  const char* url = std::getenv("CUTTLE_TEST_PG_ADMIN_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "CUTTLE_TEST_PG_ADMIN_URL is not set: run through scripts/with-postgres.sh";
    return "postgresql://invalid-host-for-tests:1/none";
  }
  return url;
}

// `url` with its database name replaced by `name`.
std::string WithDatabase(const std::string& url, const std::string& name) {
  size_t query = url.find('?');
  std::string base = url.substr(0, query);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base.substr(0, base.rfind('/') + 1) + name + rest;
}

std::unique_ptr<Database> OpenOrFail(const OpenOptions& o) {
  auto db = Open(o);
  EXPECT_TRUE(db.has_value()) << db.error().message();
  return db ? std::move(*db) : nullptr;
}

// A fresh database per test, created through the admin URL and dropped afterwards, so tests share
// neither tables nor advisory locks.
class PostgresEnv {
 public:
  PostgresEnv() {
    static std::atomic<int> counter = 0;
    name_ = "cuttle_t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    url_ = WithDatabase(testing::TestPostgresUrl(), name_);
    OpenOptions o;
    o.url = AdminUrl();
    o.pool_size = 1;
    admin_ = OpenOrFail(o);
    if (admin_ != nullptr) {
      auto r = admin_->Execute("CREATE DATABASE " + name_);
      EXPECT_TRUE(r.has_value()) << r.error().message();
    }
  }
  ~PostgresEnv() {
    if (admin_ != nullptr) {
      auto r = admin_->Execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      EXPECT_TRUE(r.has_value()) << r.error().message();
    }
  }

  OpenOptions Options() const {
    OpenOptions o;
    o.url = url_;
    o.pool_size = 4;
    o.retry_budget = std::chrono::seconds(10);
    return o;
  }

 private:
  std::string name_;
  std::string url_;
  std::unique_ptr<Database> admin_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, DatabaseContractTest, PostgresEnv);

class PgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenOrFail(env_.Options());
    ASSERT_NE(db_, nullptr);
    OpenOptions o = env_.Options();
    o.pool_size = 1;
    killer_ = OpenOrFail(o);
    ASSERT_NE(killer_, nullptr);
  }

  // Terminates every backend of this database except the killer's own connection.
  int64_t TerminateOthers() {
    auto rs = killer_->Execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    EXPECT_TRUE(rs.has_value()) << rs.error().message();
    return rs ? rs->front().GetInt(0) : 0;
  }

  PostgresEnv env_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Database> killer_;
};

TEST_F(PgDatabaseTest, KilledConnectionsAreReplacedTransparently) {
  // Fill the pool: several threads holding connections at once.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { EXPECT_TRUE(db_->Execute("SELECT pg_sleep(0.2)").has_value()); });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_GE(TerminateOthers(), 4);
  for (int i = 0; i < 10; ++i) {
    auto rs = db_->Execute("SELECT 1");
    ASSERT_TRUE(rs.has_value()) << rs.error().message();
  }
  auto tx_ok = db_->InTransaction([](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("SELECT 1"));
    return {};
  });
  EXPECT_TRUE(tx_ok.has_value());
}

TEST_F(PgDatabaseTest, TransactionFromBeginIsNotRetried) {
  auto tx = db_->Begin();
  ASSERT_TRUE(tx.has_value()) << tx.error().message();
  ASSERT_TRUE((*tx)->Execute("SELECT 1").has_value());
  TerminateOthers();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto r = (*tx)->Execute("SELECT 1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable) << r.error().message();
  tx->reset();
  EXPECT_TRUE(db_->Execute("SELECT 1").has_value());  // the broken connection was not pooled
}

TEST_F(PgDatabaseTest, InTransactionRetriesWhenTheConnectionIsKilledMidway) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY)").has_value());
  int calls = 0;
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    ++calls;
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t VALUES (1)"));
    if (calls == 1) {
      TerminateOthers();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t VALUES (2)"));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(db_->Execute("SELECT count(*) FROM t").value().front().GetInt(0), 2);
}

TEST_F(PgDatabaseTest, ListenerReconnectsAfterItsConnectionIsKilled) {
  const std::string channel = "reconnect_test";
  EXPECT_FALSE(db_->WaitForNotification(channel, std::chrono::milliseconds(200)));
  TerminateOthers();
  // Losing the LISTEN connection wakes waiters (hints may have been lost); wait for that.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool woke = false;
  while (!woke && std::chrono::steady_clock::now() < deadline) {
    woke = db_->WaitForNotification(channel, std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(woke);
  // The channel is LISTENed again: a notification sent through another Database arrives.
  std::atomic<bool> got = false;
  std::thread waiter([&] { got = db_->WaitForNotification(channel, std::chrono::seconds(10)); });
  while (!got && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(10)) {
    ASSERT_TRUE(killer_->Notify(channel).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  waiter.join();
  EXPECT_TRUE(got);
}

TEST_F(PgDatabaseTest, NowMillisWorksBeforeMigrations) {
  auto now = db_->NowMillis();
  ASSERT_TRUE(now.has_value()) << now.error().message();
  EXPECT_GT(*now, 1'700'000'000'000);
}

TEST_F(PgDatabaseTest, MultiHostUriFailsOverToTheHostThatAccepts) {
  // The first host refuses; libpq moves on to the real server.
  std::string url = env_.Options().url;
  size_t at = url.find('@') + 1;
  std::string multi = url.substr(0, at) + "127.0.0.1:1," + url.substr(at);
  multi += (multi.find('?') == std::string::npos ? "?" : "&");
  multi += "target_session_attrs=read-write";
  ASSERT_EQ(ValidateUrl(multi).value_or(Dialect::kSqlite), Dialect::kPostgres);
  OpenOptions o = env_.Options();
  o.url = multi;
  auto db = OpenOrFail(o);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->Execute("SELECT 1").has_value());
}

// A migrated database whose replies can be lost: `lose(sql)` is asked after each statement the
// server answered (OpenOptions::lose_reply_after).
class LostReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenOptions o = env_.Options();
    o.clock = &clock_;
    o.lose_reply_after = [this](std::string_view sql) { return lose_ && lose_(sql); };
    db_ = OpenOrFail(o);
    ASSERT_NE(db_, nullptr);
    auto migrated = Migrate(*db_);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().message();
    ASSERT_TRUE(db_->Execute("CREATE TABLE t (n SERIAL PRIMARY KEY, v INTEGER)").has_value());
  }

  // Loses the reply of the next `times` statements that satisfy `match`.
  void LoseNext(int times, std::function<bool(std::string_view)> match) {
    auto left = std::make_shared<std::atomic<int>>(times);
    lose_ = [left, match](std::string_view sql) { return match(sql) && left->fetch_sub(1) > 0; };
  }

  int64_t Count(const std::string& sql) {
    auto rs = db_->Execute(sql);
    EXPECT_TRUE(rs.has_value()) << rs.error().message();
    return rs ? rs->front().GetInt(0) : -1;
  }

  static bool IsCommit(std::string_view sql) { return sql.ends_with("COMMIT"); }

  PostgresEnv env_;
  testing::FakeClock clock_;
  std::function<bool(std::string_view)> lose_;
  std::unique_ptr<Database> db_;
};

TEST_F(LostReplyTest, ACommitWhoseReplyIsLostIsNotAppliedTwice) {
  LoseNext(1, IsCommit);
  int calls = 0;
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    ++calls;
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t (v) VALUES (1)"));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 1);
  EXPECT_EQ(calls, 1) << "the committed body is not run again";
}

TEST_F(LostReplyTest, TheCheckAfterALostCommitSurvivesLosingItsOwnReply) {
  // The commit's reply and then the check's are lost; the check runs again and still finds the
  // transaction committed.
  LoseNext(2, IsCommit);
  int calls = 0;
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    ++calls;
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t (v) VALUES (1)"));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 1);
  EXPECT_EQ(calls, 1);
}

TEST_F(LostReplyTest, ACommitThatFailedTransientlyIsFencedAndRunAgain) {
  // A deferred trigger fails the first COMMIT with a serialization failure (transient, so its
  // outcome is treated as unknown): the check finds no marker, claims it, and the body runs again.
  for (const char* sql :
       {"CREATE SEQUENCE fail_once",
        "CREATE FUNCTION fail_first() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('fail_once') = 1 THEN RAISE EXCEPTION 'first commit fails' USING "
        "ERRCODE = '40001'; END IF; RETURN NULL; END $$",
        "CREATE CONSTRAINT TRIGGER t_fail_first AFTER INSERT ON t DEFERRABLE INITIALLY "
        "DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_first()"}) {
    auto r = db_->Execute(sql);
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }
  int calls = 0;
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    ++calls;
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t (v) VALUES (1)"));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM commit_markers WHERE fenced"), 1)
      << "the first attempt's marker is claimed, so its COMMIT can never succeed later";
  EXPECT_EQ(Count("SELECT count(*) FROM commit_markers WHERE NOT fenced"), 1);
}

TEST_F(LostReplyTest, AFailureBeforeCommitIsRetriedAndAppliesOnce) {
  LoseNext(1, [](std::string_view sql) { return sql.starts_with("INSERT INTO t"); });
  int calls = 0;
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    ++calls;
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t (v) VALUES (1)"));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 1);
}

TEST_F(LostReplyTest, ABodyThatFailsIsNotCommitted) {
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t (v) VALUES (1)"));
    return Fail(Error::InvalidArgument("no"));
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM commit_markers"), 0);
}

TEST_F(LostReplyTest, ATransactionThatWritesNothingLeavesNoMarker) {
  auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("SELECT count(*) FROM t"));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(Count("SELECT count(*) FROM commit_markers"), 0);
}

TEST_F(LostReplyTest, TheSweepRemovesMarkersOverAnHourOldAtMostOnceAMinute) {
  auto insert_marker = [&](const std::string& id, int64_t age_ms) {
    auto r = db_->Execute("INSERT INTO commit_markers (id, created_at) VALUES ($1, now_ms() - $2)",
                          {id, age_ms});
    ASSERT_TRUE(r.has_value()) << r.error().message();
  };
  auto write = [&] {
    auto r = db_->InTransaction([&](Transaction& tx) -> Result<void> {
      CUTTLE_TRY_VOID(tx.Execute("INSERT INTO t (v) VALUES (1)"));
      return {};
    });
    ASSERT_TRUE(r.has_value()) << r.error().message();
  };
  auto has = [&](const std::string& id) {
    auto rs = db_->Execute("SELECT count(*) FROM commit_markers WHERE id = $1", {id});
    EXPECT_TRUE(rs.has_value());
    return rs && rs->front().GetInt(0) == 1;
  };
  const std::string old = "00000000-0000-4000-8000-000000000001";
  const std::string young = "00000000-0000-4000-8000-000000000002";
  const std::string old2 = "00000000-0000-4000-8000-000000000003";
  insert_marker(old, 3'601'000);
  insert_marker(young, 3'000'000);
  write();  // the first commit sweeps
  EXPECT_FALSE(has(old));
  EXPECT_TRUE(has(young));
  EXPECT_EQ(Count("SELECT count(*) FROM commit_markers"), 2) << "young and the write's own";

  insert_marker(old2, 7'200'000);
  write();
  EXPECT_TRUE(has(old2)) << "swept less than a minute ago";
  clock_.Advance(std::chrono::seconds(61));
  write();
  EXPECT_FALSE(has(old2));
  EXPECT_TRUE(has(young));
}

}  // namespace
}  // namespace cuttle::db
