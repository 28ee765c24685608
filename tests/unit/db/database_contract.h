// The db::Database contract: one typed test suite run against every backend. A backend's test
// file defines an Env (fresh, empty database per test; Options() opens it, any number of times)
// and instantiates the suite:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DatabaseContractTest, SqliteEnv);
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "db/database.h"
#include "db/migrations.h"

namespace cuttle::db {

template <class Env>
class DatabaseContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenNew();
    ASSERT_NE(db_, nullptr);
  }

  std::unique_ptr<Database> OpenNew() {
    auto db = Open(env_.Options());
    EXPECT_TRUE(db.has_value()) << db.error().message();
    return db ? std::move(*db) : nullptr;
  }

  ResultSet Exec(std::string_view sql, const Params& params = {}) {
    auto rs = db_->Execute(sql, params);
    EXPECT_TRUE(rs.has_value()) << sql << ": " << rs.error().message();
    return rs ? std::move(*rs) : ResultSet{};
  }

  void CreateItems() {
    Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n BIGINT)");
  }

  Env env_;
  std::unique_ptr<Database> db_;
};

TYPED_TEST_SUITE_P(DatabaseContractTest);

TYPED_TEST_P(DatabaseContractTest, EveryValueTypeAndNullRoundTrip) {
  this->Exec(
      "CREATE TABLE vals (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, s TEXT, "
      "b BOOLEAN)");
  const int64_t big = std::numeric_limits<int64_t>::max();
  const int64_t small = std::numeric_limits<int64_t>::min();
  this->Exec("INSERT INTO vals (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
             {int64_t{1}, big, 3.25, std::string("it's \"quoted\" $1 ünïcode"), true});
  this->Exec("INSERT INTO vals (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
             {int64_t{2}, small, -0.1, std::string(), false});
  this->Exec("INSERT INTO vals (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
             {int64_t{3}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}});

  ResultSet rs = this->Exec("SELECT id, i, d, s, b FROM vals ORDER BY id");
  ASSERT_EQ(rs.rows.size(), 3u);
  const Row& a = rs.rows[0];
  EXPECT_EQ(a.GetInt("i"), big);
  EXPECT_DOUBLE_EQ(a.GetDouble("d"), 3.25);
  EXPECT_EQ(a.GetString("s"), "it's \"quoted\" $1 ünïcode");
  EXPECT_TRUE(a.GetBool("b"));
  EXPECT_FALSE(a.IsNull("b"));
  const Row& b = rs.rows[1];
  EXPECT_EQ(b.GetInt(1), small);
  EXPECT_DOUBLE_EQ(b.GetDouble(2), -0.1);
  EXPECT_EQ(b.GetOptionalString("s"), std::optional<std::string>(""));
  EXPECT_FALSE(b.GetBool("b"));
  const Row& c = rs.rows[2];
  for (size_t i = 1; i < c.size(); ++i) {
    EXPECT_TRUE(c.IsNull(i)) << i;
  }
  EXPECT_EQ(c.GetInt("i"), 0);
  EXPECT_EQ(c.GetOptionalInt("i"), std::nullopt);
  EXPECT_EQ(c.GetOptionalString("s"), std::nullopt);
  EXPECT_EQ(c.GetString("s"), "");
  EXPECT_FALSE(c.GetBool("b"));

  // Parameters may repeat and appear out of order.
  ResultSet p = this->Exec("SELECT s FROM vals WHERE id = $2 OR (id = $1 AND id <> $2) ORDER BY id",
                           {int64_t{7}, int64_t{2}});
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_EQ(p.front().GetString(0), "");
}

TYPED_TEST_P(DatabaseContractTest, ReturningAndAffectedCounts) {
  this->CreateItems();
  ResultSet ins = this->Exec("INSERT INTO items (id, name, n) VALUES ($1, $2, $3) RETURNING id, n",
                             {int64_t{1}, std::string("a"), int64_t{10}});
  ASSERT_EQ(ins.rows.size(), 1u);
  EXPECT_EQ(ins.front().GetInt("id"), 1);
  EXPECT_EQ(ins.front().GetInt("n"), 10);
  EXPECT_EQ(ins.affected, 1);
  this->Exec("INSERT INTO items (id, name, n) VALUES (2, 'b', 20), (3, 'c', 30)");

  ResultSet up = this->Exec("UPDATE items SET n = n + 1 WHERE n >= $1", {int64_t{20}});
  EXPECT_EQ(up.affected, 2);
  EXPECT_TRUE(up.empty());
  ResultSet up_ret = this->Exec("UPDATE items SET n = n + 1 WHERE id = 3 RETURNING n");
  EXPECT_EQ(up_ret.front().GetInt(0), 32);
  EXPECT_EQ(up_ret.affected, 1);
  EXPECT_EQ(this->Exec("UPDATE items SET n = 0 WHERE id = 99").affected, 0);
  EXPECT_EQ(this->Exec("SELECT * FROM items").affected, 0);
  EXPECT_EQ(this->Exec("DELETE FROM items WHERE id < 3").affected, 2);
}

TYPED_TEST_P(DatabaseContractTest, UniqueViolationIsAlreadyExistsOtherErrorsAreDatabase) {
  this->CreateItems();
  this->Exec("INSERT INTO items (id, name) VALUES (1, 'a')");
  auto dup_key = this->db_->Execute("INSERT INTO items (id, name) VALUES (1, 'b')");
  ASSERT_FALSE(dup_key.has_value());
  EXPECT_EQ(dup_key.error().code(), ErrorCode::kAlreadyExists) << dup_key.error().message();
  auto dup_name = this->db_->Execute("INSERT INTO items (id, name) VALUES ($1, $2)",
                                     {int64_t{2}, std::string("a")});
  ASSERT_FALSE(dup_name.has_value());
  EXPECT_EQ(dup_name.error().code(), ErrorCode::kAlreadyExists);

  auto syntax = this->db_->Execute("SELEKT 1");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kDatabase);
  auto not_null = this->db_->Execute("INSERT INTO items (id) VALUES (5)");
  ASSERT_FALSE(not_null.has_value());
  EXPECT_EQ(not_null.error().code(), ErrorCode::kDatabase);
  auto wrong_params = this->db_->Execute("SELECT $1", {int64_t{1}, int64_t{2}});
  EXPECT_FALSE(wrong_params.has_value());
}

TYPED_TEST_P(DatabaseContractTest, InTransactionCommitsOrRollsBack) {
  this->CreateItems();
  auto ok = this->db_->InTransaction([](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (1, 'a')"));
    CUTTLE_TRY_VOID(
        tx.Execute("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{2}, std::string("b")}));
    return {};
  });
  ASSERT_TRUE(ok.has_value()) << ok.error().message();

  auto failed = this->db_->InTransaction([](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (3, 'c')"));
    return Fail(Error::Conflict("changed my mind"));
  });
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(failed.error().message(), "changed my mind");

  auto dup = this->db_->InTransaction([](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (4, 'd')"));
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (1, 'again')"));
    return {};
  });
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);

  EXPECT_EQ(this->Exec("SELECT count(*) FROM items").front().GetInt(0), 2);
}

TYPED_TEST_P(DatabaseContractTest, InTransactionRetriesTransientFailureOfTheBody) {
  this->CreateItems();
  int calls = 0;
  auto r = this->db_->InTransaction([&](Transaction& tx) -> Result<void> {
    ++calls;
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (1, 'a')"));
    if (calls == 1) {
      return Fail(Error::Unavailable("simulated serialization failure"));
    }
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(this->Exec("SELECT count(*) FROM items").front().GetInt(0), 1);
}

TYPED_TEST_P(DatabaseContractTest, BeginCommitRollbackAndDestroy) {
  this->CreateItems();
  {
    auto tx = this->db_->Begin();
    ASSERT_TRUE(tx.has_value()) << tx.error().message();
    ASSERT_TRUE((*tx)->Execute("INSERT INTO items (id, name) VALUES (1, 'a')").has_value());
    ASSERT_TRUE((*tx)->Commit().has_value());
    EXPECT_FALSE((*tx)->Execute("SELECT 1").has_value());  // finished
  }
  {
    auto tx = this->db_->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE((*tx)->Execute("INSERT INTO items (id, name) VALUES (2, 'b')").has_value());
    (*tx)->Rollback();
  }
  {
    auto tx = this->db_->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE((*tx)->Execute("INSERT INTO items (id, name) VALUES (3, 'c')").has_value());
    // destroyed open: rolled back
  }
  ResultSet rs = this->Exec("SELECT id FROM items ORDER BY id");
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.front().GetInt(0), 1);
}

TYPED_TEST_P(DatabaseContractTest, MigrationsApplyOnceAndAreIdempotent) {
  auto before = CurrentSchemaVersion(*this->db_);
  ASSERT_TRUE(before.has_value()) << before.error().message();
  EXPECT_EQ(*before, 0);
  auto first = Migrate(*this->db_);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(*first, LatestSchemaVersion());
  auto second = Migrate(*this->db_);
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(*second, LatestSchemaVersion());
  EXPECT_EQ(this->Exec("SELECT count(*) FROM schema_migrations").front().GetInt(0),
            static_cast<int64_t>(BuiltInMigrations(this->db_->dialect()).size()));
  ResultSet m = this->Exec("SELECT name, applied_at FROM schema_migrations WHERE version = 1");
  ASSERT_EQ(m.rows.size(), 1u);
  EXPECT_EQ(m.front().GetString("name"), "0001_foundation");
  EXPECT_GT(m.front().GetInt("applied_at"), 0);

  // The foundation tables exist, with their defaults and constraints.
  this->Exec(
      "INSERT INTO users (id, username, display_name, created_at) VALUES ('Users-1', 'admin', "
      "'Admin', now_ms())");
  ResultSet u = this->Exec("SELECT is_service, is_active, email FROM users");
  EXPECT_FALSE(u.front().GetBool("is_service"));
  EXPECT_TRUE(u.front().GetBool("is_active"));
  this->Exec(
      "INSERT INTO api_keys (id, user_id, key_hash, created_at) VALUES ('ApiKeys-1', 'Users-1', "
      "'h', now_ms())");
  this->Exec("DELETE FROM users WHERE id = 'Users-1'");
  EXPECT_EQ(this->Exec("SELECT count(*) FROM api_keys").front().GetInt(0), 0);  // cascaded
  this->Exec(
      "INSERT INTO server_nodes (id, name, max_concurrent_tasks, last_seen, started_at, version) "
      "VALUES ('OctopusServerNodes-a', 'a', 5, now_ms(), now_ms(), '0.1.0')");
  ResultSet n = this->Exec(
      "SELECT is_in_maintenance_mode, is_offline_marked, lease_epoch, "
      "last_modified_on FROM server_nodes");
  EXPECT_FALSE(n.front().GetBool("is_in_maintenance_mode"));
  EXPECT_FALSE(n.front().GetBool("is_offline_marked"));
  EXPECT_EQ(n.front().GetInt("lease_epoch"), 0);
  EXPECT_TRUE(n.front().IsNull("last_modified_on"));
  this->Exec("INSERT INTO spaces (id, name, slug, is_default) VALUES ($1, $2, $3, $4)",
             {std::string("Spaces-1"), std::string("Default"), std::string("default"), true});
  ResultSet s = this->Exec("SELECT is_default, task_queue_stopped, json FROM spaces");
  EXPECT_TRUE(s.front().GetBool("is_default"));
  EXPECT_FALSE(s.front().GetBool("task_queue_stopped"));
  EXPECT_EQ(s.front().GetString("json"), "{}");
  this->Exec("INSERT INTO cluster_settings (key, value) VALUES ('installation_id', 'x')");
}

TYPED_TEST_P(DatabaseContractTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  auto other = this->OpenNew();
  ASSERT_NE(other, nullptr);
  Result<int> a = 0, b = 0;
  std::thread t([&] { a = Migrate(*other); });
  b = Migrate(*this->db_);
  t.join();
  ASSERT_TRUE(a.has_value()) << a.error().message();
  ASSERT_TRUE(b.has_value()) << b.error().message();
  EXPECT_EQ(*a, LatestSchemaVersion());
  EXPECT_EQ(*b, LatestSchemaVersion());
  EXPECT_EQ(this->Exec("SELECT count(*) FROM schema_migrations").front().GetInt(0),
            static_cast<int64_t>(BuiltInMigrations(this->db_->dialect()).size()));
}

TYPED_TEST_P(DatabaseContractTest, DatabaseNewerThanBinaryIsConflict) {
  ASSERT_TRUE(Migrate(*this->db_).has_value());
  const int newer = LatestSchemaVersion() + 1;
  this->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'x', 0)",
             {int64_t{newer}});
  auto r = Migrate(*this->db_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConflict);
  EXPECT_NE(r.error().message().find(std::to_string(newer)), std::string::npos);
  std::string known = "(";
  known += std::to_string(LatestSchemaVersion());
  known += ")";
  EXPECT_NE(r.error().message().find(known), std::string::npos) << r.error().message();
}

TYPED_TEST_P(DatabaseContractTest, NowMillisIsMonotonicAndCloseToSystemTime) {
  ASSERT_TRUE(Migrate(*this->db_).has_value());
  const int64_t system_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  auto first = this->db_->NowMillis();
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_NEAR(static_cast<double>(*first), static_cast<double>(system_ms), 5000);
  int64_t last = *first;
  for (int i = 0; i < 20; ++i) {
    int64_t sql_now = this->Exec("SELECT now_ms()").front().GetInt(0);
    EXPECT_GE(sql_now, last);
    auto now = this->db_->NowMillis();
    ASSERT_TRUE(now.has_value());
    EXPECT_GE(*now, sql_now);
    last = *now;
  }
}

TYPED_TEST_P(DatabaseContractTest, IdSequenceAllocationFromTwoThreadsIsDistinct) {
  ASSERT_TRUE(Migrate(*this->db_).has_value());
  constexpr int kPerThread = 40;
  auto allocate = [&](std::vector<int64_t>* out) {
    for (int i = 0; i < kPerThread; ++i) {
      auto rs = this->db_->Execute(
          "INSERT INTO id_sequences (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE "
          "SET value = id_sequences.value + 1 RETURNING value",
          {std::string("ServerTasks")});
      ASSERT_TRUE(rs.has_value()) << rs.error().message();
      out->push_back(rs->front().GetInt(0));
    }
  };
  std::vector<int64_t> a, b;
  std::thread t(allocate, &a);
  allocate(&b);
  t.join();
  std::set<int64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 2u * kPerThread);
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), 2 * kPerThread);
}

TYPED_TEST_P(DatabaseContractTest, NotifyWakesWaitersAndWaitTimesOutWithout) {
  const std::string channel = "contract_wake";
  EXPECT_FALSE(this->db_->WaitForNotification(channel, std::chrono::milliseconds(100)));

  std::atomic<int> woken = 0;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; ++i) {
    waiters.emplace_back([&] {
      if (this->db_->WaitForNotification(channel, std::chrono::seconds(10))) {
        ++woken;
      }
    });
  }
  // Notifications are hints: a waiter that is not listening yet misses one, so keep hinting.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (woken < 2 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(this->db_->Notify(channel, "payload").has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : waiters) {
    t.join();
  }
  EXPECT_EQ(woken, 2);
  // The hints this thread sent since its last wait are reported once (see the next test)...
  (void)this->db_->WaitForNotification(channel, std::chrono::milliseconds(0));
  // ...and another channel's notification does not wake this one.
  ASSERT_TRUE(this->db_->Notify("contract_other").has_value());
  EXPECT_FALSE(this->db_->WaitForNotification(channel, std::chrono::milliseconds(100)));
}

// Regression: a hint that arrived while the dispatcher was busy claiming (between two waits) was
// lost, and the task waited for the next one-second poll.
TYPED_TEST_P(DatabaseContractTest, AHintBetweenTwoWaitsIsNotLost) {
  const std::string channel = "contract_between";
  EXPECT_FALSE(this->db_->WaitForNotification(channel, std::chrono::milliseconds(10)));
  // Each hint is sent while this thread is not waiting. (PostgreSQL's LISTEN connection starts
  // with the first wait and may miss the first hints, so keep hinting.)
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    std::thread([&] { ASSERT_TRUE(this->db_->Notify(channel).has_value()); }).join();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // not waiting meanwhile
    seen = this->db_->WaitForNotification(channel, std::chrono::milliseconds(0));
  }
  EXPECT_TRUE(seen);
  EXPECT_FALSE(this->db_->WaitForNotification(channel, std::chrono::milliseconds(50)))
      << "reported once";
}

TYPED_TEST_P(DatabaseContractTest, WithClusterLockRunsBodyAndExcludesOtherHolders) {
  this->CreateItems();
  auto other = this->OpenNew();
  ASSERT_NE(other, nullptr);
  bool other_ran = false;
  auto held = this->db_->WithClusterLock(42, [&](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (1, 'locked')"));
    if (this->db_->dialect() == Dialect::kPostgres) {
      auto second = other->WithClusterLock(42, [&](Transaction&) -> Result<void> {
        other_ran = true;
        return {};
      });
      EXPECT_TRUE(second.has_value());
      EXPECT_FALSE(second.value_or(true));
      // A different key is free.
      auto different = other->WithClusterLock(43, [](Transaction&) -> Result<void> { return {}; });
      EXPECT_TRUE(different.value_or(false));
    }
    return {};
  });
  ASSERT_TRUE(held.has_value()) << held.error().message();
  EXPECT_TRUE(*held);
  EXPECT_FALSE(other_ran);
  EXPECT_EQ(this->Exec("SELECT count(*) FROM items").front().GetInt(0), 1);

  // Released at commit: the other Database gets it now.
  auto after = other->WithClusterLock(42, [&](Transaction&) -> Result<void> {
    other_ran = true;
    return {};
  });
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(*after);
  EXPECT_TRUE(other_ran);

  // A failing body is rolled back and its error returned.
  auto failing = this->db_->WithClusterLock(42, [](Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(tx.Execute("INSERT INTO items (id, name) VALUES (2, 'x')"));
    return Fail(Error::Conflict("no"));
  });
  ASSERT_FALSE(failing.has_value());
  EXPECT_EQ(failing.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(this->Exec("SELECT count(*) FROM items").front().GetInt(0), 1);
}

REGISTER_TYPED_TEST_SUITE_P(
    DatabaseContractTest, EveryValueTypeAndNullRoundTrip, ReturningAndAffectedCounts,
    UniqueViolationIsAlreadyExistsOtherErrorsAreDatabase, InTransactionCommitsOrRollsBack,
    InTransactionRetriesTransientFailureOfTheBody, BeginCommitRollbackAndDestroy,
    MigrationsApplyOnceAndAreIdempotent, ConcurrentMigratorsApplyEachMigrationOnce,
    DatabaseNewerThanBinaryIsConflict, NowMillisIsMonotonicAndCloseToSystemTime,
    IdSequenceAllocationFromTwoThreadsIsDistinct, NotifyWakesWaitersAndWaitTimesOutWithout,
    AHintBetweenTwoWaitsIsNotLost, WithClusterLockRunsBodyAndExcludesOtherHolders);

}  // namespace cuttle::db
