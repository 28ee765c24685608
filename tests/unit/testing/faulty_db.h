// A Database that forwards to another one, with faults a test turns on: single attempts
// (ExecuteOnce, the heartbeat's) failing as in a database outage, and a hook run before each
// Execute (to make something happen while a statement is on its way, e.g. a failover).
#pragma once

#include <atomic>
#include <functional>
#include <string_view>

#include "db/database.h"

namespace cuttle::testing {

class FaultyDatabase final : public db::Database {
 public:
  explicit FaultyDatabase(db::Database& inner) : inner_(inner) {}

  // While true, ExecuteOnce fails with kUnavailable without reaching the database.
  std::atomic<bool> fail_single_attempts{false};
  // Called with the statement before each Execute is forwarded; set before the database is used.
  std::function<void(std::string_view sql)> before_execute;

  db::Dialect dialect() const override { return inner_.dialect(); }
  Result<db::ResultSet> Execute(std::string_view sql, const db::Params& params) override {
    if (before_execute) before_execute(sql);
    return inner_.Execute(sql, params);
  }
  Result<db::ResultSet> ExecuteOnce(std::string_view sql, const db::Params& params) override {
    if (fail_single_attempts) {
      return Fail(Error::Unavailable("connecting to the database: the test's outage"));
    }
    return inner_.ExecuteOnce(sql, params);
  }
  Result<std::unique_ptr<db::Transaction>> Begin() override { return inner_.Begin(); }
  Result<void> InTransaction(const std::function<Result<void>(db::Transaction&)>& body) override {
    return inner_.InTransaction(body);
  }
  Result<bool> WithClusterLock(int64_t key,
                               const std::function<Result<void>(db::Transaction&)>& body) override {
    return inner_.WithClusterLock(key, body);
  }
  Result<void> Notify(std::string_view channel, std::string_view payload) override {
    return inner_.Notify(channel, payload);
  }
  void NotifyLocally(std::string_view channel) override { inner_.NotifyLocally(channel); }
  bool WaitForNotification(std::string_view channel, std::chrono::milliseconds timeout) override {
    return inner_.WaitForNotification(channel, timeout);
  }
  Result<int64_t> NowMillis() override { return inner_.NowMillis(); }
  std::chrono::milliseconds retry_budget() const override { return inner_.retry_budget(); }

 private:
  db::Database& inner_;
};

}  // namespace cuttle::testing
