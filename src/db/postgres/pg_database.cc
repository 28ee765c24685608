#include "db/postgres/pg_database.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/log.h"
#include "core/strings.h"
#include "db/internal/notification_board.h"
#include "db/internal/retry.h"
#include "db/internal/script_runner.h"

namespace cuttle::db::postgres {

namespace {

using PgResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// libpq messages span lines ("ERROR:  ...\nLINE 1: ...\n"); errors and logs are one line.
std::string TrimmedMessage(const char* s) {
  if (s == nullptr) {
    return "unknown error";
  }
  std::string out;
  for (char c : core::Trim(s)) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (!space) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  return out;
}

// One attempt to connect. Every failure is kUnavailable: the server may be starting, failing over
// or briefly unreachable; a permanently wrong URL is caught by Open, which does not retry.
//
// Every wait on the network is bounded, so that a host that vanished without closing its
// connections (a crashed machine, a dropped route; nothing answers, not even a reset) costs a
// known time rather than TCP's minutes: connect_timeout bounds each host's connection attempt
// (libpq tries the URL's hosts in turn, so an attempt takes at most hosts x 5 s); tcp_user_timeout
// fails a statement whose bytes the server has not acknowledged within 10 s; keepalives notice an
// idle connection's dead peer within about 20 s (10 s idle, then probes that tcp_user_timeout
// bounds). The URL's own settings win (docs/high-availability.md, "What a node does while the
// database fails over").
Result<PGconn*> Connect(const std::string& url) {
  // Defaults go before dbname (the expanded URL), so that the URL's own settings win.
  static constexpr std::array<const char*, 9> kKeys = {
      "connect_timeout",     "application_name", "keepalives_idle",
      "keepalives_interval", "keepalives_count", "tcp_user_timeout",
      "client_encoding",     "dbname",           nullptr};
  const std::array<const char*, 9> values = {"5",     "cuttle", "10",        "5",    "3",
                                             "10000", "UTF8",   url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(kKeys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) {
    return Fail(Error::Unavailable("connecting to PostgreSQL: out of memory"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    Error e =
        Error::Unavailable("connecting to PostgreSQL: " + TrimmedMessage(PQerrorMessage(conn)));
    PQfinish(conn);
    return Fail(e);
  }
  PQsetNoticeProcessor(conn, &IgnoreNotice, nullptr);
  // The task queue's claim must walk the queued-tasks index in order and stop after a few rows.
  // With the default random_page_cost (4) and statistics that still say the queue is nearly
  // empty, which is how a sudden backlog looks until the next ANALYZE, the planner reads and
  // sorts the whole queue on every claim instead (docs/design-notes.md, "The claim's plan"). A
  // statement rather than a startup option, which PgBouncer refuses.
  PgResultPtr set(PQexec(conn, "SET random_page_cost = 1.1"), &PQclear);
  if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
    Error e = Error::Unavailable("setting up the PostgreSQL session: " +
                                 TrimmedMessage(PQerrorMessage(conn)));
    PQfinish(conn);
    return Fail(e);
  }
  return conn;
}

// An idle connection has nothing to read: a readable socket means the server sent a FATAL error
// and/or closed it (a terminated backend, a server shutting down), so it is replaced before use
// rather than failing the caller's first attempt. Rare harmless messages (a ParameterStatus after
// a reload) only cost a reconnect.
bool LooksHealthy(PGconn* conn) {
  if (PQstatus(conn) != CONNECTION_OK) {
    return false;
  }
  pollfd pfd{PQsocket(conn), POLLIN, 0};
  return poll(&pfd, 1, 0) == 0;
}

class Pool;

// The statements prepared on one connection: SQL text -> prepared statement name. Used only by the
// thread that has borrowed the connection; it lives and dies with the connection.
struct PreparedStatements {
  std::unordered_map<std::string, std::string> names;
  uint64_t made = 0;  // names are never reused on a connection
};

// A connection borrowed from the pool, returned when this dies. MarkBroken() makes the pool close
// it instead of reusing it.
class PooledConn {
 public:
  PooledConn(Pool* pool, PGconn* conn, PreparedStatements* prepared)
      : pool_(pool), conn_(conn), prepared_(prepared) {}
  PooledConn(PooledConn&& o) noexcept
      : pool_(o.pool_),
        conn_(std::exchange(o.conn_, nullptr)),
        prepared_(o.prepared_),
        broken_(o.broken_) {}
  PooledConn& operator=(PooledConn&&) = delete;
  ~PooledConn();

  PGconn* get() const { return conn_; }
  PreparedStatements& prepared() const { return *prepared_; }
  void MarkBroken() { broken_ = true; }
  // The test hook (OpenOptions::lose_reply_after), after the server answered `sql`: true when the
  // reply is to be treated as lost, with the socket closed and the connection marked broken.
  bool LoseReply(std::string_view sql);

 private:
  Pool* pool_;
  PGconn* conn_;
  PreparedStatements* prepared_;
  bool broken_ = false;
};

// A connection attempt this slow is logged: it waited on a host that did not answer.
constexpr std::chrono::milliseconds kSlowConnect{1000};

class Pool {
 public:
  Pool(std::string url, int size, std::chrono::milliseconds wait,
       std::function<bool(std::string_view)> lose_reply_after)
      : url_(std::move(url)),
        size_(std::max(1, size)),
        wait_(wait),
        lose_reply_after_(std::move(lose_reply_after)) {}
  ~Pool() {
    for (PGconn* c : idle_) {
      PQfinish(c);
    }
  }

  const std::string& url() const { return url_; }
  const std::function<bool(std::string_view)>& lose_reply_after() const {
    return lose_reply_after_;
  }

  Result<PooledConn> Acquire() {
    std::unique_lock lock(mu_);
    while (true) {
      if (!cv_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < size_; })) {
        return Fail(
            Error::Unavailable("all " + std::to_string(size_) + " database connections are busy"));
      }
      if (idle_.empty()) {
        break;
      }
      PGconn* conn = idle_.back();
      idle_.pop_back();
      if (LooksHealthy(conn)) {
        return PooledConn(this, conn, &prepared_[conn]);
      }
      prepared_.erase(conn);
      PQfinish(conn);
      --open_;
    }
    ++open_;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto conn = Connect(url_);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (took >= kSlowConnect) {
      // A host that does not answer costs connect_timeout before libpq tries the next one: the
      // delay a failover adds to every new connection until the dead host is gone from the URL.
      CUTTLE_LOG_WARN("connecting to PostgreSQL took {} ms ({})", took.count(),
                      conn ? "connected" : conn.error().message());
    }
    if (!conn) {
      lock.lock();
      --open_;
      cv_.notify_one();
      return Fail(conn.error());
    }
    lock.lock();
    PreparedStatements* prepared = &prepared_[*conn];
    *prepared = {};
    return PooledConn(this, *conn, prepared);
  }

  void Release(PGconn* conn, bool broken) {
    if (!broken && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
      PQclear(PQexec(conn, "ROLLBACK"));  // never hand on an open transaction
    }
    if (broken || PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE) {
      std::lock_guard lock(mu_);
      prepared_.erase(conn);
      PQfinish(conn);
      --open_;
    } else {
      std::lock_guard lock(mu_);
      idle_.push_back(conn);
    }
    cv_.notify_one();
  }

 private:
  const std::string url_;
  const int size_;
  const std::chrono::milliseconds wait_;
  const std::function<bool(std::string_view)> lose_reply_after_;
  std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  std::vector<PGconn*> idle_;
  int open_ = 0;  // idle + borrowed
  // Per open connection (idle or borrowed); an entry's contents belong to the borrower.
  std::unordered_map<PGconn*, PreparedStatements> prepared_;
};

PooledConn::~PooledConn() {
  if (conn_ != nullptr) {
    pool_->Release(conn_, broken_);
  }
}

bool PooledConn::LoseReply(std::string_view sql) {
  const auto& hook = pool_->lose_reply_after();
  if (!hook || !hook(sql)) {
    return false;
  }
  // What a failover does to a client: the socket is gone, nothing more can be read or sent.
  shutdown(PQsocket(conn_), SHUT_RDWR);
  broken_ = true;
  return true;
}

// The error a reply lost by the test hook is reported as: the same as a real lost connection's.
Error LostReply() {
  return Error::Unavailable(
      "connection to PostgreSQL lost: server closed the connection unexpectedly (test hook: the "
      "reply was dropped after the server answered)");
}

// Turns a failed result into an Error, marking the connection broken when it cannot be reused.
Error ClassifyFailure(PooledConn& c, const PGresult* res) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message =
      TrimmedMessage(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(c.get()));
  if (message.empty()) {
    message = TrimmedMessage(PQerrorMessage(c.get()));
  }
  if (PQstatus(c.get()) != CONNECTION_OK) {
    c.MarkBroken();
    return Error::Unavailable("connection to PostgreSQL lost: " + message);
  }
  if (state == nullptr) {
    return Error::Database(message);
  }
  std::string_view sqlstate(state);
  if (sqlstate == "23505") {
    return Error::AlreadyExists(message);
  }
  if (sqlstate == "42501") {  // insufficient_privilege: the role may not write or create here
    return Error::PermissionDenied(message);
  }
  if (IsTransientSqlState(sqlstate)) {
    // Serialization failures and deadlocks leave a healthy connection; the rest (a read-only
    // demoted primary, a server shutting down) need a new connection, which libpq points at the
    // current primary when the URL says target_session_attrs=read-write.
    if (sqlstate != "40001" && sqlstate != "40P01") {
      c.MarkBroken();
    }
    return Error::Unavailable(message + " (SQLSTATE " + std::string(sqlstate) + ")");
  }
  return Error::Database(message);
}

std::string ValueToText(const Value& v) {
  if (const auto* n = std::get_if<int64_t>(&v)) {
    return std::to_string(*n);
  }
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(*d);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    return *s;
  }
  return std::get<bool>(v) ? "true" : "false";
}

ResultSet ToResultSet(const PGresult* res) {
  ResultSet out;
  const int ncols = PQnfields(res);
  auto columns = std::make_shared<std::vector<std::string>>();
  for (int c = 0; c < ncols; ++c) {
    columns->emplace_back(PQfname(res, c));
  }
  const int nrows = PQntuples(res);
  out.rows.reserve(nrows);
  for (int r = 0; r < nrows; ++r) {
    std::vector<std::optional<std::string>> cells;
    cells.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        cells.emplace_back(std::nullopt);
      } else {
        cells.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    out.rows.emplace_back(columns, std::move(cells));
  }
  // PQcmdTuples also counts SELECT rows; `affected` is only for statements that change rows.
  const std::string_view command = PQcmdStatus(const_cast<PGresult*>(res));
  const char* tuples = PQcmdTuples(const_cast<PGresult*>(res));
  if ((command.starts_with("INSERT") || command.starts_with("UPDATE") ||
       command.starts_with("DELETE") || command.starts_with("MERGE")) &&
      tuples != nullptr && *tuples != '\0') {
    out.affected = core::ParseInt(tuples).value_or(0);
  }
  return out;
}

// Statements are prepared once per connection and executed by name after that, so PostgreSQL
// parses and plans each only once (its plan cache settles on a generic plan after a few runs):
// for short statements such as the task claim, planning cost more than executing. Statements
// built with a varying shape (IN lists) stop being cached once a connection holds this many.
constexpr size_t kMaxPreparedPerConnection = 256;

// Runs a statement and hands back libpq's result, checked for success.
Result<PgResultPtr> RunRaw(PooledConn& c, std::string_view sql, const Params& params) {
  std::vector<std::string> texts;
  texts.reserve(params.size());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Value& v : params) {
    if (std::holds_alternative<std::monostate>(v)) {
      values.push_back(nullptr);
    } else {
      texts.push_back(ValueToText(v));
      values.push_back(texts.back().c_str());
    }
  }
  const int n = static_cast<int>(values.size());
  std::string text(sql);
  auto& prepared = c.prepared().names;
  auto it = prepared.find(text);
  if (it == prepared.end() && prepared.size() < kMaxPreparedPerConnection) {
    std::string name = "cuttle_s" + std::to_string(++c.prepared().made);
    PgResultPtr made(PQprepare(c.get(), name.c_str(), text.c_str(), n, nullptr), &PQclear);
    // A statement that cannot be prepared runs unnamed below, which reports its error.
    if (made && PQresultStatus(made.get()) == PGRES_COMMAND_OK) {
      it = prepared.emplace(text, std::move(name)).first;
    }
  }
  PgResultPtr res(nullptr, &PQclear);
  if (it != prepared.end()) {
    res.reset(PQexecPrepared(c.get(), it->second.c_str(), n, values.data(), nullptr, nullptr,
                             /*resultFormat=*/0));
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (state != nullptr && std::string_view(state) == "0A000") {
      // "cached plan must not change result type": the schema changed under the statement (a
      // newer node migrated it). Prepare it afresh next time; outside a transaction, run it
      // unnamed now.
      prepared.erase(it);
      if (PQtransactionStatus(c.get()) == PQTRANS_IDLE) {
        res.reset(PQexecParams(c.get(), text.c_str(), n, nullptr, values.data(), nullptr, nullptr,
                               /*resultFormat=*/0));
      }
    }
  } else {
    res.reset(PQexecParams(c.get(), text.c_str(), n, nullptr, values.data(), nullptr, nullptr,
                           /*resultFormat=*/0));
  }
  const ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    return Fail(ClassifyFailure(c, res.get()));
  }
  if (c.LoseReply(sql)) {
    return Fail(LostReply());
  }
  return res;
}

Result<ResultSet> Run(PooledConn& c, std::string_view sql, const Params& params) {
  CUTTLE_TRY(auto res, RunRaw(c, sql, params));
  return ToResultSet(res.get());
}

// A row of a PGresult, read in place.
class PgRowView final : public RowView {
 public:
  PgRowView(const PGresult* res, int row) : res_(res), row_(row) {}
  size_t size() const override { return static_cast<size_t>(PQnfields(res_)); }
  bool IsNull(size_t i) const override { return PQgetisnull(res_, row_, static_cast<int>(i)) != 0; }
  std::string_view Text(size_t i) const override {
    const int c = static_cast<int>(i);
    return {PQgetvalue(res_, row_, c), static_cast<size_t>(PQgetlength(res_, row_, c))};
  }

 private:
  const PGresult* res_;
  int row_;
};

// Runs a parameterless command (BEGIN, COMMIT, a migration script) and returns its command status.
Result<std::string> RunCommand(PooledConn& c, const std::string& sql) {
  PgResultPtr res(PQexec(c.get(), sql.c_str()), &PQclear);
  const ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    return Fail(ClassifyFailure(c, res.get()));
  }
  if (c.LoseReply(sql)) {
    return Fail(LostReply());
  }
  return std::string(PQcmdStatus(res.get()));
}

// The commit marker's insert, prepared by name (SQL PREPARE) once per connection.
constexpr const char* kMarkerStatement = "cuttle_commit_marker";
constexpr const char* kPrepareMarker =
    "PREPARE cuttle_commit_marker (uuid) AS INSERT INTO commit_markers (id, created_at) SELECT $1, "
    "now_ms() WHERE txid_current_if_assigned() IS NOT NULL";
// Its entry in PreparedStatements::names (not a statement text, so it never clashes with one).
constexpr const char* kMarkerPreparedKey = "\x01commit marker";

class PgTransaction final : public Transaction, public internal::ScriptRunner {
 public:
  explicit PgTransaction(PooledConn conn) : conn_(std::move(conn)) {}
  ~PgTransaction() override { Rollback(); }

  // Commits as Commit does, inserting the commit marker `marker` (a UUID: [0-9a-f-] only) in the
  // same round trip if the transaction wrote anything (has a transaction id): one simple-protocol
  // message "INSERT ...; COMMIT", so the marker costs the server one small insert and the client
  // no extra round trip. A read-only transaction stays one without a marker (no WAL, no flush):
  // running it twice is harmless.
  // `prepared`: the connection holds kMarkerStatement (BeginPg prepares it once per connection),
  // which saves parsing and planning the insert on every commit.
  Result<void> CommitWithMarker(std::string_view marker, bool prepared) {
    if (!open_) {
      return Fail(Error::Internal("Commit on a finished transaction"));
    }
    open_ = false;
    const std::string sql =
        prepared
            ? "EXECUTE " + std::string(kMarkerStatement) + "('" + std::string(marker) + "'); COMMIT"
            : "INSERT INTO commit_markers (id, created_at) SELECT '" + std::string(marker) +
                  "', now_ms() WHERE txid_current_if_assigned() IS NOT NULL; COMMIT";
    CUTTLE_TRY(std::string status, RunCommand(conn_, sql));
    if (status != "COMMIT") {
      return Fail(Error::Database("transaction rolled back at commit: a statement in it failed"));
    }
    return {};
  }

  // Runs a statement on the connection after the transaction has ended (the marker sweep).
  Result<void> RunAfterCommit(const std::string& sql) {
    CUTTLE_TRY_VOID(RunCommand(conn_, sql));
    return {};
  }

  // db::Transaction
  Result<ResultSet> Execute(std::string_view sql, const Params& params) override {
    if (!open_) {
      return Fail(Error::Internal("Execute on a finished transaction"));
    }
    return Run(conn_, sql, params);
  }

  Result<void> Commit() override {
    if (!open_) {
      return Fail(Error::Internal("Commit on a finished transaction"));
    }
    open_ = false;
    CUTTLE_TRY(std::string status, RunCommand(conn_, "COMMIT"));
    if (status != "COMMIT") {  // PostgreSQL answers ROLLBACK when a statement had failed
      return Fail(Error::Database("transaction rolled back at commit: a statement in it failed"));
    }
    return {};
  }

  void Rollback() override {
    if (open_) {
      open_ = false;
      (void)RunCommand(conn_, "ROLLBACK");
    }
  }

  // internal::ScriptRunner
  Result<void> ExecuteScript(std::string_view sql) override {
    if (!open_) {
      return Fail(Error::Internal("ExecuteScript on a finished transaction"));
    }
    CUTTLE_TRY_VOID(RunCommand(conn_, std::string(sql)));
    return {};
  }

 private:
  PooledConn conn_;
  bool open_ = true;
};

// The LISTEN side: one connection and one thread, started by the first Listen(). The thread
// LISTENs on every channel asked for, forwards notifications to the board, and after losing the
// connection reconnects, re-LISTENs and wakes every waiter (hints may have been missed meanwhile).
class Listener {
 public:
  Listener(std::string url, internal::NotificationBoard* board)
      : url_(std::move(url)), board_(board), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  ~Listener() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    Wake();
    if (thread_.joinable()) {
      thread_.join();
    }
    if (wake_fd_ >= 0) {
      close(wake_fd_);
    }
  }

  void Listen(std::string_view channel) {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { Run(); });
    }
    if (channels_.emplace(channel).second) {
      Wake();
    }
  }

 private:
  void Wake() {
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));
    }
  }

  // Waits `d` unless stopped first; false when stopping.
  bool Pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [&] { return stop_; });
  }

  void Run() {
    PGconn* conn = nullptr;
    std::set<std::string> listening;
    bool connected_before = false;
    int failures = 0;
    auto drop = [&](std::string_view why) {
      CUTTLE_LOG_WARN("LISTEN connection lost: {}", why);
      PQfinish(conn);
      conn = nullptr;
      listening.clear();
    };
    while (true) {
      std::vector<std::string> wanted;
      {
        std::lock_guard lock(mu_);
        if (stop_) {
          break;
        }
        wanted.assign(channels_.begin(), channels_.end());
      }
      bool fresh = false;
      if (conn == nullptr) {
        auto c = Connect(url_);
        if (!c) {
          ++failures;
          auto delay = internal::BackoffDelay(failures);
          internal::LogRetry("LISTEN connection", failures, c.error(), delay);
          if (!Pause(delay)) {
            break;
          }
          continue;
        }
        conn = *c;
        fresh = true;
      }
      bool ok = true;
      for (const std::string& channel : wanted) {
        if (listening.contains(channel)) {
          continue;
        }
        char* ident = PQescapeIdentifier(conn, channel.data(), channel.size());
        if (ident == nullptr) {
          ok = false;
          break;
        }
        PgResultPtr res(PQexec(conn, ("LISTEN " + std::string(ident)).c_str()), &PQclear);
        PQfreemem(ident);
        if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
          ok = false;
          break;
        }
        listening.insert(channel);
      }
      if (!ok) {
        drop(TrimmedMessage(PQerrorMessage(conn)));
        continue;
      }
      if (fresh) {
        if (connected_before) {
          board_->BumpAll();
        }
        connected_before = true;
        failures = 0;
      }
      std::array<pollfd, 2> fds = {pollfd{PQsocket(conn), POLLIN, 0}, pollfd{wake_fd_, POLLIN, 0}};
      // The timeout only bounds how long a missed wake-up could delay a stop.
      poll(fds.data(), wake_fd_ >= 0 ? 2 : 1, 1000);
      if (fds[1].revents != 0) {
        uint64_t drained;
        (void)!read(wake_fd_, &drained, sizeof(drained));
      }
      if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
        drop(TrimmedMessage(PQerrorMessage(conn)));
        continue;
      }
      while (PGnotify* n = PQnotifies(conn)) {
        board_->Bump(n->relname);
        PQfreemem(n);
      }
    }
    PQfinish(conn);
  }

  const std::string url_;
  internal::NotificationBoard* const board_;
  const int wake_fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  std::set<std::string, std::less<>> channels_;
  bool stop_ = false;
  std::thread thread_;
};

// A commit marker's id: a random UUID whose first 48 bits are this machine's time in ms (as in a
// version 7 UUID), so that successive markers go to the right-hand edge of the primary key's
// index rather than to random pages (a random page dirtied after each checkpoint costs a
// full-page image in the WAL; measured about twice the cost per transaction). Uniqueness comes
// from the 74 random bits; the time is not read back (ages use created_at, the database clock).
std::string NewMarkerId() {
  std::string id = core::NewUuid();  // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
  const auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  static constexpr char kHex[] = "0123456789abcdef";
  const std::array<size_t, 12> at = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12};
  for (size_t i = 0; i < at.size(); ++i) {
    id[at[i]] = kHex[(ms >> (4 * (11 - i))) & 0xF];
  }
  return id;
}

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(const OpenOptions& options)
      : pool_(options.url, options.pool_size, options.retry_budget, options.lose_reply_after),
        retry_budget_(options.retry_budget),
        clock_(options.clock),
        listener_(options.url, &board_) {}

  // db::Database
  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<ResultSet> Execute(std::string_view sql, const Params& params) override {
    return internal::RetryTransient(OpName(sql), retry_budget_, [&]() -> Result<ResultSet> {
      CUTTLE_TRY(PooledConn c, pool_.Acquire());
      return Run(c, sql, params);
    });
  }

  Result<ResultSet> ExecuteOnce(std::string_view sql, const Params& params) override {
    CUTTLE_TRY(PooledConn c, pool_.Acquire());
    return Run(c, sql, params);
  }

  Result<void> ForEachRow(std::string_view sql, const Params& params,
                          const std::function<void(const RowView&)>& row) override {
    CUTTLE_TRY(PgResultPtr res,
               internal::RetryTransient(OpName(sql), retry_budget_, [&]() -> Result<PgResultPtr> {
                 CUTTLE_TRY(PooledConn c, pool_.Acquire());
                 return RunRaw(c, sql, params);
               }));
    const int rows = PQntuples(res.get());
    for (int r = 0; r < rows; ++r) {
      row(PgRowView(res.get(), r));
    }
    return {};
  }

  Result<std::unique_ptr<Transaction>> Begin() override {
    return internal::RetryTransient("BEGIN", retry_budget_, [&] { return BeginOnce(); });
  }

  // Commit markers (see database.h and migration 0018): each attempt that commits writes makes
  // one random UUID for its marker (usually one per call). A commit that fails transiently has an
  // unknown outcome: the reply may have been lost after the server committed. The next attempt
  // first settles it (SettleUnknownCommit) and returns success without re-running `body` if it had
  // committed. A failure before the commit message was sent (BEGIN, a statement of `body`) left
  // nothing committed and is retried as it is.
  Result<void> InTransaction(const std::function<Result<void>(Transaction&)>& body) override {
    std::string unknown;  // the marker of an attempt whose commit outcome is unknown
    return internal::RetryTransient("transaction", retry_budget_, [&]() -> Result<void> {
      if (!unknown.empty()) {
        CUTTLE_TRY(bool committed, SettleUnknownCommit(unknown));
        if (committed) {
          CUTTLE_LOG_WARN(
              "transaction committed although its COMMIT reply was lost; not running it again");
          return {};
        }
        unknown.clear();
      }
      bool marked = false;
      bool prepared = false;
      CUTTLE_TRY(auto tx, BeginPg(&marked, &prepared));
      if (auto r = body(*tx); !r) {
        tx->Rollback();
        return r;
      }
      if (!marked) {
        return tx->Commit();
      }
      std::string marker = NewMarkerId();
      auto committed = tx->CommitWithMarker(marker, prepared);
      if (!committed) {
        if (committed.error().code() == ErrorCode::kUnavailable) {
          unknown = std::move(marker);
        }
        return committed;
      }
      MaybeSweepMarkers(*tx);
      return {};
    });
  }

  Result<bool> WithClusterLock(int64_t key,
                               const std::function<Result<void>(Transaction&)>& body) override {
    bool taken = false;
    CUTTLE_TRY_VOID(InTransaction([&](Transaction& tx) -> Result<void> {
      CUTTLE_TRY(ResultSet rs, tx.Execute("SELECT pg_try_advisory_xact_lock($1)", {key}));
      taken = rs.front().GetBool(0);
      if (!taken) {
        return {};  // commits an empty transaction
      }
      return body(tx);
    }));
    return taken;
  }

  Result<void> Notify(std::string_view channel, std::string_view payload) override {
    CUTTLE_TRY_VOID(
        Execute("SELECT pg_notify($1, $2)", {std::string(channel), std::string(payload)}));
    return {};
  }

  void NotifyLocally(std::string_view channel) override { board_.Bump(channel); }

  bool WaitForNotification(std::string_view channel, std::chrono::milliseconds timeout) override {
    listener_.Listen(channel);
    return board_.Wait(channel, timeout);
  }

  Result<int64_t> NowMillis() override {
    // Inline rather than now_ms(): this may run before the migration that creates the function.
    CUTTLE_TRY(ResultSet rs,
               Execute("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint", {}));
    return rs.front().GetInt(0);
  }

  std::chrono::milliseconds retry_budget() const override { return retry_budget_; }

  Result<void> Check() {
    CUTTLE_TRY(PooledConn c, pool_.Acquire());
    return {};
  }

 private:
  static std::string OpName(std::string_view sql) {
    return "statement '" + std::string(core::Trim(sql.substr(0, 60))) + "'";
  }

  Result<std::unique_ptr<Transaction>> BeginOnce() {
    CUTTLE_TRY(PooledConn c, pool_.Acquire());
    CUTTLE_TRY_VOID(RunCommand(c, "BEGIN ISOLATION LEVEL READ COMMITTED"));
    return std::unique_ptr<Transaction>(std::make_unique<PgTransaction>(std::move(c)));
  }

  // Begins a transaction for InTransaction; *marked tells whether it is to commit with a marker,
  // i.e. whether the commit_markers table exists. Until it has been seen to exist (a database
  // not migrated to 0018 yet, or the migrations themselves), BEGIN asks in the same round trip.
  Result<std::unique_ptr<PgTransaction>> BeginPg(bool* marked, bool* prepared) {
    CUTTLE_TRY(PooledConn c, pool_.Acquire());
    *prepared = false;
    if (markers_exist_.load(std::memory_order_relaxed)) {
      auto& names = c.prepared().names;
      if (!names.contains(kMarkerPreparedKey)) {
        // Outside the transaction, so that it outlives a transaction that fails.
        CUTTLE_TRY_VOID(RunCommand(c, kPrepareMarker));
        names.emplace(kMarkerPreparedKey, kMarkerStatement);
      }
      CUTTLE_TRY_VOID(RunCommand(c, "BEGIN ISOLATION LEVEL READ COMMITTED"));
      *marked = true;
      *prepared = true;
    } else {
      static const std::string kBeginAndAsk =
          "BEGIN ISOLATION LEVEL READ COMMITTED; "
          "SELECT to_regclass('commit_markers') IS NOT NULL";
      PgResultPtr res(PQexec(c.get(), kBeginAndAsk.c_str()), &PQclear);
      if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
        return Fail(ClassifyFailure(c, res.get()));
      }
      if (c.LoseReply(kBeginAndAsk)) {
        return Fail(LostReply());
      }
      *marked = std::string_view(PQgetvalue(res.get(), 0, 0)) == "t";
      if (*marked) {
        markers_exist_.store(true, std::memory_order_relaxed);
      }
    }
    return std::make_unique<PgTransaction>(std::move(c));
  }

  // Settles the outcome of the attempt that committed with `marker` and lost the reply: claims the
  // marker id (fenced) on a connection from the pool. If the lost attempt's marker is there, it
  // committed (true). Otherwise the claim is inserted, and should the lost attempt's message
  // still reach the server (a network cut, not a dead backend), its marker insert fails on the
  // claim and it does not commit (false: safe to run `body` again). An attempt still between its
  // marker insert and its commit holds the id: the claim waits for it (lock_timeout bounds the
  // wait; then this fails transiently and the next attempt asks again). A repeated claim (its
  // own reply lost) finds its own fenced row: still false.
  Result<bool> SettleUnknownCommit(const std::string& marker) {
    CUTTLE_TRY(PooledConn c, pool_.Acquire());
    CUTTLE_TRY_VOID(RunCommand(c, "BEGIN; SET LOCAL lock_timeout = '5s'"));
    auto claimed = Run(c,
                       "INSERT INTO commit_markers (id, created_at, fenced) VALUES ($1, now_ms(), "
                       "TRUE) ON CONFLICT (id) DO UPDATE SET fenced = commit_markers.fenced "
                       "RETURNING fenced",
                       {marker});
    if (!claimed) {
      if (claimed.error().code() == ErrorCode::kUnavailable ||
          claimed.error().message().find("lock timeout") == std::string::npos) {
        return Fail(claimed.error());
      }
      return Fail(
          Error::Unavailable("the outcome of a commit whose reply was lost is not known "
                             "yet: its transaction is still open (" +
                             claimed.error().message() + ")"));
    }
    CUTTLE_TRY(std::string status, RunCommand(c, "COMMIT"));
    if (status != "COMMIT") {
      return Fail(Error::Database("checking a commit marker: rolled back at commit"));
    }
    return !claimed->front().GetBool(0);
  }

  // Markers older than this are swept; a lost commit is settled within one retry budget.
  static constexpr int64_t kMarkerRetentionMs = 3'600'000;
  static constexpr std::chrono::seconds kSweepInterval{60};

  // At most once per kSweepInterval per Database, the commit that finds the sweep due deletes
  // the markers older than kMarkerRetentionMs by the database clock, on its own connection after
  // its commit (one statement a minute; a failure only waits for the next minute).
  void MaybeSweepMarkers(PgTransaction& tx) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            clock_->SteadyNow().time_since_epoch())
                            .count();
    int64_t due = next_sweep_ms_.load(std::memory_order_relaxed);
    if (now < due || !next_sweep_ms_.compare_exchange_strong(
                         due, now + std::chrono::milliseconds(kSweepInterval).count())) {
      return;
    }
    auto swept = tx.RunAfterCommit("DELETE FROM commit_markers WHERE created_at < now_ms() - " +
                                   std::to_string(kMarkerRetentionMs));
    if (!swept) {
      CUTTLE_LOG_WARN("sweeping old commit markers failed: {}", swept.error().message());
    }
  }

  Pool pool_;
  const std::chrono::milliseconds retry_budget_;
  core::Clock* const clock_;
  std::atomic<bool> markers_exist_{false};  // commit_markers seen (it is never dropped)
  // SteadyNow in ms after which the next clean commit sweeps old markers.
  std::atomic<int64_t> next_sweep_ms_{std::numeric_limits<int64_t>::min()};
  internal::NotificationBoard board_;
  // Declared after board_: the listener thread must stop before the board goes.
  Listener listener_;
};

}  // namespace

bool IsTransientSqlState(std::string_view s) {
  // 08P01 (protocol violation) is what a wrong number of parameters gets: a bug, not an outage.
  return (s.starts_with("08") && s != "08P01") || s == "57P01" || s == "57P02" || s == "57P03" ||
         s == "40001" || s == "40P01" || s == "25006" || s == "53300";
}

Result<std::unique_ptr<Database>> OpenPostgres(const OpenOptions& options) {
  auto db = std::make_unique<PgDatabase>(options);
  CUTTLE_TRY_VOID(db->Check());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cuttle::db::postgres
