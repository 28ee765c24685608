#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "database_contract.h"
#include "db/database.h"
#include "db/migrations.h"
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

}  // namespace
}  // namespace cuttle::db
