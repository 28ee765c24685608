// Database: the one interface every module uses to reach durable state, with two backends:
// PostgreSQL (libpq, a connection pool; for clusters) and SQLite (WAL; single node).
//
// Thread-safety: a Database is safe for concurrent use from many threads. A Transaction is used by
// the one thread that opened it.
//
// SQL portability rules (the migrations and every repository follow them):
//  - parameters are written $1, $2, ... in both dialects;
//  - times are BIGINT milliseconds since the Unix epoch; `now_ms()` is the database clock in both
//    dialects (a SQL function on PostgreSQL, a registered function on SQLite), and is the only
//    clock liveness arithmetic may use;
//  - booleans are stored as INTEGER/BOOLEAN and read with GetBool (0/1 or true/false);
//  - JSON is stored as TEXT;
//  - `INSERT ... RETURNING`, `UPDATE ... RETURNING`, `ON CONFLICT DO ...` and partial indexes
//    work in both; dialect-specific statements check dialect().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace cuttle::db {

enum class Dialect { kPostgres, kSqlite };

// A statement parameter. std::monostate is SQL NULL.
using Value = std::variant<std::monostate, int64_t, double, std::string, bool>;
using Params = std::vector<Value>;

// One row of a result; columns addressed by index or by name. Accessors never throw: a NULL reads
// as the fallback (0, "", false) and IsNull tells the difference.
class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns,
      std::vector<std::optional<std::string>> cells)
      : columns_(std::move(columns)), cells_(std::move(cells)) {}

  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const;
  bool IsNull(std::string_view column) const;
  int64_t GetInt(size_t i) const;
  int64_t GetInt(std::string_view column) const;
  double GetDouble(size_t i) const;
  double GetDouble(std::string_view column) const;
  std::string GetString(size_t i) const;
  std::string GetString(std::string_view column) const;
  bool GetBool(size_t i) const;
  bool GetBool(std::string_view column) const;
  std::string_view Text(size_t i) const;  // "" for NULL; valid while the Row lives
  std::optional<int64_t> GetOptionalInt(std::string_view column) const;
  std::optional<std::string> GetOptionalString(std::string_view column) const;

 private:
  size_t Index(std::string_view column) const;  // CUTTLE_CHECKs that the column exists

  std::shared_ptr<const std::vector<std::string>> columns_;
  // Every cell as text (libpq's text format; SQLite values converted), nullopt for NULL.
  std::vector<std::optional<std::string>> cells_;
};

// One row of a result read in place (Database::ForEachRow): the cells are views of the driver's
// buffers, valid only during the callback, so a read of thousands of rows copies no cell. The
// accessors read as Row's do (NULL as 0, "", false).
class RowView {
 public:
  virtual size_t size() const = 0;
  virtual bool IsNull(size_t i) const = 0;
  virtual std::string_view Text(size_t i) const = 0;  // "" for NULL
  int64_t GetInt(size_t i) const;
  std::optional<int64_t> GetOptionalInt(size_t i) const;
  bool GetBool(size_t i) const;

 protected:
  ~RowView() = default;
};

struct ResultSet {
  std::vector<Row> rows;
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE

  bool empty() const { return rows.empty(); }
  const Row& front() const { return rows.front(); }
};

// Statements run inside one transaction on one connection. Commit or Rollback ends it; destroying
// an open transaction rolls it back.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual Result<ResultSet> Execute(std::string_view sql, const Params& params = {}) = 0;
  virtual Result<void> Commit() = 0;
  virtual void Rollback() = 0;
};

class Database {
 public:
  virtual ~Database() = default;

  virtual Dialect dialect() const = 0;

  // Runs one statement in its own implicit transaction. Transient failures (connection lost,
  // server starting or shutting down, serialization failure, deadlock, read-only standby after a
  // failover) are retried with backoff for up to retry_budget(); then kUnavailable is returned.
  // Other failures return kDatabase (constraint violations: kAlreadyExists).
  virtual Result<ResultSet> Execute(std::string_view sql, const Params& params = {}) = 0;

  // Execute without the retries: one attempt, whose transient failure is returned at once as
  // kUnavailable. For callers that keep their own, shorter, retry cadence (the node heartbeat must
  // notice within milliseconds that the database is back, not after a back-off of up to a second).
  // Backends that do not distinguish run Execute.
  virtual Result<ResultSet> ExecuteOnce(std::string_view sql, const Params& params = {}) {
    return Execute(sql, params);
  }

  // Runs one statement as Execute does and calls `row` for each row of its result, in order,
  // once the whole result has arrived (so a retried attempt never reaches `row`). PostgreSQL
  // reads the cells where libpq holds them; the default goes through Execute.
  virtual Result<void> ForEachRow(std::string_view sql, const Params& params,
                                  const std::function<void(const RowView&)>& row);

  // Begins a transaction. PostgreSQL: READ COMMITTED; SQLite: BEGIN IMMEDIATE (one writer).
  virtual Result<std::unique_ptr<Transaction>> Begin() = 0;

  // Runs `body` in a transaction and commits it; if `body` fails the transaction is rolled back
  // and the error returned. If the whole unit fails transiently it is retried from the start with
  // backoff within retry_budget(), so `body` must be safe to re-run.
  //
  // A commit whose reply is lost (the connection dropped after COMMIT was sent: a failover, a
  // network cut, a killed backend) is not blindly re-run. PostgreSQL writes a commit marker, a
  // random id, in the same round trip as COMMIT (for transactions that wrote anything); the next
  // attempt first claims that id on another connection, which tells whether the lost commit
  // happened and stops it from happening later. If it did, InTransaction returns success without
  // running `body` again, so whatever `body` stored in captured variables is from the attempt
  // that committed (it ran to the end before COMMIT). SQLite commits locally: no lost replies.
  virtual Result<void> InTransaction(const std::function<Result<void>(Transaction&)>& body) = 0;

  // Runs `body` only if the cluster-wide lock `key` can be taken now (PostgreSQL: a transaction-
  // level advisory lock, pg_try_advisory_xact_lock, held for the transaction `body` runs in;
  // SQLite: the single-writer transaction itself). Returns false without running `body` when
  // another node holds the lock.
  virtual Result<bool> WithClusterLock(int64_t key,
                                       const std::function<Result<void>(Transaction&)>& body) = 0;

  // Sends a wake-up hint to every node listening on `channel` (PostgreSQL NOTIFY; SQLite: wakes
  // local listeners only, which is all there are). Best effort: a lost hint is covered by polling.
  virtual Result<void> Notify(std::string_view channel, std::string_view payload = {}) = 0;

  // Wakes this process's own waiters on `channel` now, for a hint a statement of this process
  // has just sent (SELECT pg_notify(...) in the same statement): the server's echo arrives a
  // little later through the LISTEN connection, and still reaches the other nodes.
  virtual void NotifyLocally(std::string_view channel) { (void)channel; }

  // Waits up to `timeout` for a notification on `channel` (LISTEN on a dedicated connection that
  // is re-established after a failure). Returns true if one arrived, false on timeout. Several
  // threads may wait on the same channel; one notification wakes all of them.
  virtual bool WaitForNotification(std::string_view channel, std::chrono::milliseconds timeout) = 0;

  // The database clock (now_ms()).
  virtual Result<int64_t> NowMillis() = 0;

  // How long transient failures are retried before an operation fails (30 s by default).
  virtual std::chrono::milliseconds retry_budget() const = 0;
};

struct OpenOptions {
  // "sqlite://PATH" or a libpq URI ("postgresql://..." / "postgres://...").
  std::string url;
  int pool_size = 8;                              // PostgreSQL connections
  std::chrono::milliseconds retry_budget{30000};  // transient failures
  // SQLite's now_ms() reads this clock, so single-node liveness can be tested with a FakeClock.
  // PostgreSQL paces its sweep of old commit markers (once a minute) by its SteadyNow().
  core::Clock* clock = &core::SystemClock::Instance();
  // Tests only (PostgreSQL; SQLite ignores it): called with a statement's text after the server
  // has answered it successfully (InTransaction's commit ends in "COMMIT"). Returning true makes
  // the backend close the connection's socket and report what a lost connection reports
  // (kUnavailable) although the server carried the statement out: a reply lost in a failover.
  std::function<bool(std::string_view sql)> lose_reply_after;
};

// Opens (PostgreSQL: connects the pool lazily but checks one connection now; SQLite: creates the
// file and its directory if missing, sets WAL). Does not run migrations.
Result<std::unique_ptr<Database>> Open(const OpenOptions& options);

// Validates a database URL without connecting: "sqlite://path" with a non-empty path, or a
// postgres URI that libpq accepts (PQconninfoParse). The error names what was expected.
Result<Dialect> ValidateUrl(std::string_view url);

// Where a database URL points, for messages: the SQLite file path, or PostgreSQL's
// "user@host:port/dbname" with any password left out.
std::string DescribeUrl(std::string_view url);

}  // namespace cuttle::db
