#include "db/sqlite/sqlite_database.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/strings.h"
#include "db/internal/notification_board.h"
#include "db/internal/retry.h"
#include "db/internal/script_runner.h"

namespace cuttle::db::sqlite {

namespace {

// How long a statement waits for another connection's write lock before SQLITE_BUSY (which the
// retry loop then retries within the retry budget).
constexpr int kBusyTimeoutMs = 10000;

Error SqliteError(sqlite3* db, int rc) {
  int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Error::AlreadyExists(message);
  }
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return Error::Unavailable("database is busy: " + message);
  }
  if ((code & 0xff) == SQLITE_READONLY) {
    return Error::PermissionDenied(message);
  }
  // E.g. the WAL or shared-memory file cannot be created in a directory the process may not write.
  if ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_IOERR) {
    const int os_error = db != nullptr ? sqlite3_system_errno(db) : 0;
    if (os_error == EACCES || os_error == EPERM || os_error == EROFS) {
      return Error::PermissionDenied(message + ": " + std::strerror(os_error));
    }
  }
  return Error::Database(message);
}

// Whether this process may write `path`: the file if it exists, else the directory that would
// hold it.
bool MayWrite(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) {
    return ::access(path.c_str(), W_OK) == 0;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return ::access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
}

std::string DoubleToText(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

void NowMsFunction(sqlite3_context* ctx, int /*argc*/, sqlite3_value** /*argv*/) {
  auto* clock = static_cast<core::Clock*>(sqlite3_user_data(ctx));
  sqlite3_result_int64(ctx, core::ToUnixMillis(clock->Now()));
}

bool IsBlankTail(const char* tail) {
  for (; tail != nullptr && *tail != '\0'; ++tail) {
    if (*tail != ';' && *tail != ' ' && *tail != '\n' && *tail != '\t' && *tail != '\r') {
      return false;
    }
  }
  return true;
}

Result<void> ExecScript(sqlite3* db, std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) {
    return Fail(SqliteError(db, rc));
  }
  return {};
}

Result<ResultSet> Run(sqlite3* db, std::string_view sql, const Params& params) {
  const std::string text = RewritePlaceholders(sql);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, text.c_str(), static_cast<int>(text.size()), &raw, &tail);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  if (rc != SQLITE_OK) {
    return Fail(SqliteError(db, rc));
  }
  if (!IsBlankTail(tail)) {
    return Fail(Error::Database("Execute takes one statement; found more after: " + text));
  }
  if (stmt == nullptr) {
    return ResultSet{};
  }
  // Same rule as PostgreSQL: the number of parameters must match the statement.
  if (sqlite3_bind_parameter_count(stmt.get()) != static_cast<int>(params.size())) {
    return Fail(Error::Database(
        "statement takes " + std::to_string(sqlite3_bind_parameter_count(stmt.get())) +
        " parameter(s) but " + std::to_string(params.size()) + " were supplied"));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int idx = static_cast<int>(i + 1);
    const Value& v = params[i];
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt.get(), idx);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt.get(), idx, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt.get(), idx, *d);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc =
          sqlite3_bind_text64(stmt.get(), idx, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_int(stmt.get(), idx, std::get<bool>(v) ? 1 : 0);
    }
    if (rc != SQLITE_OK) {
      return Fail(SqliteError(db, rc));
    }
  }

  const int ncols = sqlite3_column_count(stmt.get());
  auto columns = std::make_shared<std::vector<std::string>>();
  for (int c = 0; c < ncols; ++c) {
    const char* name = sqlite3_column_name(stmt.get(), c);
    columns->emplace_back(name != nullptr ? name : "");
  }
  ResultSet out;
  const int64_t total_before = sqlite3_total_changes64(db);
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::vector<std::optional<std::string>> cells;
    cells.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      switch (sqlite3_column_type(stmt.get(), c)) {
        case SQLITE_NULL:
          cells.emplace_back(std::nullopt);
          break;
        case SQLITE_INTEGER:
          cells.emplace_back(std::to_string(sqlite3_column_int64(stmt.get(), c)));
          break;
        case SQLITE_FLOAT:
          cells.emplace_back(DoubleToText(sqlite3_column_double(stmt.get(), c)));
          break;
        default: {  // TEXT or BLOB: the bytes as they are
          const void* data = sqlite3_column_blob(stmt.get(), c);
          const int size = sqlite3_column_bytes(stmt.get(), c);
          cells.emplace_back(data != nullptr ? std::string(static_cast<const char*>(data), size)
                                             : std::string());
        }
      }
    }
    out.rows.emplace_back(columns, std::move(cells));
  }
  if (rc != SQLITE_DONE) {
    return Fail(SqliteError(db, rc));
  }
  // sqlite3_changes keeps the count of the last DML statement, so it is only this statement's
  // count if the total moved (DDL and SELECT leave it alone).
  if (sqlite3_total_changes64(db) != total_before) {
    out.affected = sqlite3_changes64(db);
  }
  return out;
}

// A pool of connections to one file. Connections are opened lazily up to `size`.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, int size, core::Clock* clock)
      : path_(std::move(path)), size_(size), clock_(clock) {}
  ~ConnectionPool() {
    for (sqlite3* db : idle_) {
      sqlite3_close_v2(db);
    }
  }

  Result<sqlite3*> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      sqlite3* db = idle_.back();
      idle_.pop_back();
      return db;
    }
    ++open_;
    lock.unlock();
    auto db = Connect();
    if (!db) {
      lock.lock();
      --open_;
      cv_.notify_one();
    }
    return db;
  }

  void Release(sqlite3* db) {
    if (sqlite3_get_autocommit(db) == 0) {  // a transaction left open: never hand it on
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    {
      std::lock_guard lock(mu_);
      idle_.push_back(db);
    }
    cv_.notify_one();
  }

 private:
  Result<sqlite3*> Connect() {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const int os_error = db != nullptr ? sqlite3_system_errno(db) : 0;
      std::string message = "opening SQLite database '" + path_ +
                            "': " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
      sqlite3_close_v2(db);
      if (os_error == EACCES || os_error == EPERM || os_error == EROFS) {
        return Fail(Error::PermissionDenied(message + ": " + std::strerror(os_error)));
      }
      // SQLite falls back to opening read-only, so errno is that attempt's (ENOENT for a file it
      // could not create); ask the file system directly.
      if (!MayWrite(path_)) {
        return Fail(Error::PermissionDenied(
            "cannot create the database file: no write permission on its directory"));
      }
      return Fail(Error::Database(message));
    }
    sqlite3_extended_result_codes(db, 1);
    // SQLite opens a file it may not write read-only without saying so; every write would then
    // fail later, possibly halfway through start-up.
    if (sqlite3_db_readonly(db, "main") == 1) {
      sqlite3_close_v2(db);
      return Fail(Error::PermissionDenied("the file is read-only for this process"));
    }
    // busy_timeout first: switching to WAL needs a lock another connection may hold.
    const std::string busy_timeout = "PRAGMA busy_timeout=" + std::to_string(kBusyTimeoutMs);
    for (const char* pragma : {busy_timeout.c_str(), "PRAGMA journal_mode=WAL",
                               "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
      if (auto r = ExecScript(db, pragma); !r) {
        sqlite3_close_v2(db);
        return Fail(r.error().Wrap("configuring SQLite database '" + path_ + "'"));
      }
    }
    rc = sqlite3_create_function_v2(db, "now_ms", 0, SQLITE_UTF8, clock_, &NowMsFunction, nullptr,
                                    nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Error e = SqliteError(db, rc);
      sqlite3_close_v2(db);
      return Fail(e);
    }
    return db;
  }

  const std::string path_;
  const int size_;
  core::Clock* const clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  std::vector<sqlite3*> idle_;
  int open_ = 0;
};

class SqliteTransaction final : public Transaction, public internal::ScriptRunner {
 public:
  SqliteTransaction(ConnectionPool* pool, sqlite3* db) : pool_(pool), db_(db) {}
  ~SqliteTransaction() override { Rollback(); }

  // db::Transaction
  Result<ResultSet> Execute(std::string_view sql, const Params& params) override {
    if (db_ == nullptr) {
      return Fail(Error::Internal("Execute on a finished transaction"));
    }
    return Run(db_, sql, params);
  }

  Result<void> Commit() override {
    if (db_ == nullptr) {
      return Fail(Error::Internal("Commit on a finished transaction"));
    }
    auto r = ExecScript(db_, "COMMIT");
    Finish();  // Release rolls back if COMMIT failed and left the transaction open
    return r;
  }

  void Rollback() override {
    if (db_ != nullptr) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      Finish();
    }
  }

  // internal::ScriptRunner
  Result<void> ExecuteScript(std::string_view sql) override {
    if (db_ == nullptr) {
      return Fail(Error::Internal("ExecuteScript on a finished transaction"));
    }
    return ExecScript(db_, sql);
  }

 private:
  void Finish() {
    pool_->Release(db_);
    db_ = nullptr;
  }

  ConnectionPool* pool_;
  sqlite3* db_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const OpenOptions& options, std::string path, int pool_size)
      : pool_(std::move(path), pool_size, options.clock), retry_budget_(options.retry_budget) {}

  // db::Database
  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<ResultSet> Execute(std::string_view sql, const Params& params) override {
    return internal::RetryTransient(OpName(sql), retry_budget_, [&]() -> Result<ResultSet> {
      CUTTLE_TRY(sqlite3 * db, pool_.Acquire());
      auto r = Run(db, sql, params);
      pool_.Release(db);
      return r;
    });
  }

  Result<std::unique_ptr<Transaction>> Begin() override {
    return internal::RetryTransient("BEGIN", retry_budget_, [&] { return BeginOnce(); });
  }

  Result<void> InTransaction(const std::function<Result<void>(Transaction&)>& body) override {
    return internal::RetryTransient("transaction", retry_budget_, [&]() -> Result<void> {
      CUTTLE_TRY(auto tx, BeginOnce());
      if (auto r = body(*tx); !r) {
        tx->Rollback();
        return r;
      }
      return tx->Commit();
    });
  }

  Result<bool> WithClusterLock(int64_t /*key*/,
                               const std::function<Result<void>(Transaction&)>& body) override {
    // One node: the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
    CUTTLE_TRY_VOID(InTransaction(body));
    return true;
  }

  Result<void> Notify(std::string_view channel, std::string_view /*payload*/) override {
    board_.Bump(channel);
    return {};
  }

  bool WaitForNotification(std::string_view channel, std::chrono::milliseconds timeout) override {
    return board_.Wait(channel, timeout);
  }

  Result<int64_t> NowMillis() override {
    CUTTLE_TRY(ResultSet rs, Execute("SELECT now_ms()", {}));
    return rs.front().GetInt(0);
  }

  std::chrono::milliseconds retry_budget() const override { return retry_budget_; }

  // Opens one connection now so that a bad path fails at Open.
  Result<void> Check() {
    CUTTLE_TRY(sqlite3 * db, pool_.Acquire());
    pool_.Release(db);
    return {};
  }

 private:
  static std::string OpName(std::string_view sql) {
    return "statement '" + std::string(core::Trim(sql.substr(0, 60))) + "'";
  }

  Result<std::unique_ptr<Transaction>> BeginOnce() {
    CUTTLE_TRY(sqlite3 * db, pool_.Acquire());
    auto tx = std::make_unique<SqliteTransaction>(&pool_, db);
    if (auto r = ExecScript(db, "BEGIN IMMEDIATE"); !r) {
      return Fail(r.error());  // tx's destructor returns the connection
    }
    return std::unique_ptr<Transaction>(std::move(tx));
  }

  ConnectionPool pool_;
  const std::chrono::milliseconds retry_budget_;
  internal::NotificationBoard board_;
};

}  // namespace

std::string RewritePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  auto copy_until = [&](std::string_view end) {
    size_t stop = sql.find(end, i);
    stop = stop == std::string_view::npos ? sql.size() : stop + end.size();
    out.append(sql.substr(i, stop - i));
    i = stop;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // A doubled quote inside a literal reads as close+open, which copies through unchanged.
      out.push_back(c);
      ++i;
      copy_until(std::string_view(&c, 1));
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      copy_until("\n");
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      out.append("/*");
      i += 2;
      copy_until("*/");
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

Result<std::unique_ptr<Database>> OpenSqlite(const OpenOptions& options, const std::string& path) {
  int pool_size = std::max(1, options.pool_size);
  if (path == ":memory:") {
    pool_size = 1;  // every connection to :memory: would be a different database
  } else {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) {
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return Fail(Error::Io("creating directory '" + parent.string() +
                              "' for the SQLite database: " + ec.message()));
      }
    }
  }
  auto db = std::make_unique<SqliteDatabase>(options, path, pool_size);
  CUTTLE_TRY_VOID(db->Check());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cuttle::db::sqlite
