#include "tasks/task_queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "core/ids.h"
#include "core/json.h"
#include "core/strings.h"
#include "repo/settings.h"

namespace cuttle::tasks {

namespace {
using db::Params;
using db::Value;
using nlohmann::json;

constexpr const char* kColumns =
    "id, seq, space_id, name, description, arguments, state, queue_time, queue_time_expiry, "
    "start_time, completed_time, last_updated_time, server_node, claim_epoch, concurrency_tag, "
    "error_message, has_warnings_or_errors, idempotent, work_started, rerun_of, parked";

constexpr const char* kActive = "('Executing', 'Cancelling')";

Task ReadTask(const db::Row& r) {
  Task t;
  t.id = r.GetString("id");
  t.seq = r.GetInt("seq");
  t.space_id = r.GetString("space_id");
  t.name = r.GetString("name");
  t.description = r.GetString("description");
  // Rows written before the API bounded nesting may hold arguments too deep to serialise again.
  t.arguments = core::ParseJson(r.GetString("arguments")).value_or(json::object());
  t.state = ParseState(r.GetString("state")).value_or(TaskState::kFailed);
  t.queue_time = r.GetInt("queue_time");
  t.queue_time_expiry = r.GetOptionalInt("queue_time_expiry");
  t.start_time = r.GetOptionalInt("start_time");
  t.completed_time = r.GetOptionalInt("completed_time");
  t.last_updated_time = r.GetOptionalInt("last_updated_time");
  t.server_node = r.GetString("server_node");
  t.claim_epoch = r.GetInt("claim_epoch");
  t.concurrency_tag = r.GetString("concurrency_tag");
  t.error_message = r.GetString("error_message");
  t.has_warnings_or_errors = r.GetBool("has_warnings_or_errors");
  t.idempotent = r.GetBool("idempotent");
  t.work_started = r.GetBool("work_started");
  t.rerun_of = r.GetString("rerun_of");
  t.parked = r.GetBool("parked");
  return t;
}

Value OptText(const std::string& s) { return s.empty() ? Value() : Value(s); }
Value OptInt(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); }

// "This node, this claim, still active", with a placeholder per value (repo::Where).
constexpr const char* kLeaseHeld =
    "id = {} AND server_node = {} AND claim_epoch = {} AND state IN ('Executing', 'Cancelling')";
}  // namespace

repo::Where& AddLeaseHeld(repo::Where& w, const Lease& lease) {
  return w.AddList(kLeaseHeld, {lease.task_id, lease.node, lease.epoch});
}

const char* StateName(TaskState s) {
  switch (s) {
    case TaskState::kQueued:
      return "Queued";
    case TaskState::kExecuting:
      return "Executing";
    case TaskState::kCancelling:
      return "Cancelling";
    case TaskState::kSuccess:
      return "Success";
    case TaskState::kFailed:
      return "Failed";
    case TaskState::kCanceled:
      return "Canceled";
    case TaskState::kTimedOut:
      return "TimedOut";
  }
  return "Failed";
}

std::optional<TaskState> ParseState(std::string_view name) {
  for (auto s :
       {TaskState::kQueued, TaskState::kExecuting, TaskState::kCancelling, TaskState::kSuccess,
        TaskState::kFailed, TaskState::kCanceled, TaskState::kTimedOut}) {
    if (core::EqualsIgnoreCase(name, StateName(s))) return s;
  }
  return std::nullopt;
}

bool IsFinal(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailed || s == TaskState::kCanceled ||
         s == TaskState::kTimedOut;
}

bool ShouldClaim(int64_t running, int64_t cap, const ClusterLoad& load) {
  if (cap <= 0 || running >= cap) return false;
  if (load.total_cap <= 0) return true;  // only drained peers: this node's own cap decides
  // running/cap > (active + pending)/total_cap, compared without division.
  return running * load.total_cap <= (load.active + load.pending) * cap;
}

Orphan OrphanPolicy(const Task& t) {
  if (t.state == TaskState::kCancelling) return Orphan::kCancel;
  if (!t.work_started || t.idempotent) return Orphan::kRequeue;
  return Orphan::kFail;
}

Result<Task> TaskQueue::Enqueue(const NewTask& n) {
  const bool here = local_dispatch_ && local_dispatch_->may_claim();
  if (db_.dialect() == db::Dialect::kPostgres) {
    // One statement, one round trip: the id, the row and, unless this node is about to claim the
    // task itself, the wake-up hint (delivered when the statement's implicit transaction commits,
    // so a waking node always sees the row).
    //
    // Execute retries a statement whose connection was lost, which may be after PostgreSQL had
    // committed it (a failover, a network cut). The row carries a key made here, unique in the
    // table, so a retry of a statement that did commit inserts nothing and reads the row the
    // first attempt inserted instead (a second round trip, only then). Such a retry still uses up
    // a sequence number: the task ids then skip one. ON CONFLICT waits for an attempt still in
    // flight, so the row is found once it commits.
    const std::string key = core::NewUuid();
    CUTTLE_TRY(auto rs,
               db_.Execute(std::string("WITH s AS (INSERT INTO id_sequences (name, value) "
                                       "VALUES ('ServerTasks', 1) ON CONFLICT (name) DO UPDATE "
                                       "SET value = id_sequences.value + 1 RETURNING value) "
                                       "INSERT INTO server_tasks (id, seq, space_id, name, "
                                       "description, arguments, state, queue_time, "
                                       "queue_time_expiry, concurrency_tag, idempotent, "
                                       "rerun_of, created_by, last_updated_time, enqueue_key) "
                                       "VALUES ('ServerTasks-' || (SELECT value FROM s), (SELECT "
                                       "value FROM s), $1, $2, $3, $4, 'Queued', now_ms(), $5, "
                                       "$6, $7, $8, $9, now_ms(), $10) ON CONFLICT (enqueue_key) "
                                       "WHERE enqueue_key IS NOT NULL DO NOTHING RETURNING ") +
                               kColumns +
                               (here ? "" : std::string(", pg_notify('") + kWakeChannel + "', id)"),
                           {OptText(n.space_id), n.name, n.description, n.arguments.dump(),
                            OptInt(n.queue_time_expiry), OptText(n.concurrency_tag), n.idempotent,
                            OptText(n.rerun_of), OptText(n.created_by), key}));
    if (rs.empty()) {  // an earlier attempt inserted it: its reply was lost
      CUTTLE_TRY(rs, db_.Execute(std::string("SELECT ") + kColumns +
                                     " FROM server_tasks WHERE enqueue_key = $1",
                                 {key}));
      if (rs.empty()) {
        return Fail(Error::Internal("an enqueued task vanished before it could be read back"));
      }
    }
    Task out = ReadTask(rs.front());
    Dispatch(out.id, here);
    return out;
  }
  Task out;
  CUTTLE_TRY_VOID(db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto seq, repo::NextSequenceValue(tx, "ServerTasks"));
    std::string id = core::MakeId("ServerTasks", seq);
    CUTTLE_TRY(auto rs,
               tx.Execute(std::string("INSERT INTO server_tasks (id, seq, space_id, name, "
                                      "description, arguments, state, queue_time, "
                                      "queue_time_expiry, concurrency_tag, idempotent, "
                                      "rerun_of, created_by, last_updated_time) VALUES "
                                      "($1, $2, $3, $4, $5, $6, 'Queued', now_ms(), $7, "
                                      "$8, $9, $10, $11, now_ms()) RETURNING ") +
                              kColumns,
                          {id, seq, OptText(n.space_id), n.name, n.description, n.arguments.dump(),
                           OptInt(n.queue_time_expiry), OptText(n.concurrency_tag), n.idempotent,
                           OptText(n.rerun_of), OptText(n.created_by)}));
    out = ReadTask(rs.front());
    return {};
  }));
  Dispatch(out.id, here);
  return out;
}

Result<Task> TaskQueue::EnqueueIn(db::Transaction& tx, const NewTask& n) {
  CUTTLE_TRY(auto seq, repo::NextSequenceValue(tx, "ServerTasks"));
  CUTTLE_TRY(auto rs,
             tx.Execute(std::string("INSERT INTO server_tasks (id, seq, space_id, name, "
                                    "description, arguments, state, queue_time, "
                                    "queue_time_expiry, concurrency_tag, idempotent, "
                                    "rerun_of, created_by, last_updated_time) VALUES "
                                    "($1, $2, $3, $4, $5, $6, 'Queued', COALESCE($7, now_ms()), "
                                    "$8, $9, $10, $11, $12, now_ms()) RETURNING ") +
                            kColumns,
                        {core::MakeId("ServerTasks", seq), seq, OptText(n.space_id), n.name,
                         n.description, n.arguments.dump(), OptInt(n.queue_time),
                         OptInt(n.queue_time_expiry), OptText(n.concurrency_tag), n.idempotent,
                         OptText(n.rerun_of), OptText(n.created_by)}));
  return ReadTask(rs.front());
}

void TaskQueue::Announce(const std::string& id) {
  const bool here = local_dispatch_ && local_dispatch_->may_claim();
  if (here) {
    auto claimed = local_dispatch_->claim_and_start();
    if (std::find(claimed.begin(), claimed.end(), id) != claimed.end()) return;
  }
  (void)db_.Notify(kWakeChannel, id);
}

void TaskQueue::Dispatch(const std::string& id, bool here) {
  if (here) {
    auto claimed = local_dispatch_->claim_and_start();
    if (std::find(claimed.begin(), claimed.end(), id) != claimed.end()) return;
  }
  // On PostgreSQL the INSERT itself sent the hint unless this node meant to claim the task.
  if (db_.dialect() == db::Dialect::kPostgres && !here) {
    // This node's dispatcher need not wait for the hint to come back from the server.
    db_.NotifyLocally(kWakeChannel);
  } else {
    (void)db_.Notify(kWakeChannel, id);
  }
}

Result<std::optional<Task>> TaskQueue::Claim(const std::string& node) {
  CUTTLE_TRY(auto claimed, ClaimUpTo(node, 1));
  if (claimed.empty()) return std::optional<Task>();
  return std::optional<Task>(std::move(claimed.front()));
}

Result<std::vector<Task>> TaskQueue::ClaimUpTo(const std::string& node, int64_t limit) {
  // PostgreSQL: SKIP LOCKED lets concurrent claimers pass over rows another node is taking, and
  // the ids are gathered once (an ARRAY sub-select) so the UPDATE finds each by its key; SQLite
  // has one writer, so the statement is atomic as it stands.
  const bool pg = db_.dialect() == db::Dialect::kPostgres;
  std::string pick = std::string(
                         "SELECT t.id FROM server_tasks t WHERE t.state = 'Queued' "
                         "AND NOT t.parked AND t.queue_time <= now_ms() "
                         "AND (t.queue_time_expiry IS NULL OR t.queue_time_expiry > now_ms()) "
                         // A drain is final once committed: a claim that had decided to run
                         // before it (FreeSlots read the node's row earlier) takes nothing.
                         "AND NOT EXISTS (SELECT 1 FROM server_nodes n WHERE n.name = $1 AND "
                         "n.is_in_maintenance_mode) "
                         "AND (t.concurrency_tag IS NULL OR NOT EXISTS (SELECT 1 FROM server_tasks "
                         "e WHERE e.concurrency_tag = t.concurrency_tag AND (e.parked OR "
                         // An older task of the tag that was claimed before (a resumed or adopted
                         // deployment, back in the queue) goes first: a newer one must not
                         // overtake it on another node.
                         "(e.state = 'Queued' AND e.claim_epoch > 0 AND e.seq < t.seq) OR e.state "
                         "IN ") +
                     kActive + "))) ORDER BY t.queue_time, t.seq LIMIT $3" +
                     (pg ? " FOR UPDATE SKIP LOCKED" : "");
  std::string sql =
      std::string(
          "UPDATE server_tasks SET state = 'Executing', server_node = $1, "
          "claim_epoch = claim_epoch + 1, start_time = COALESCE(start_time, now_ms()), "
          "last_updated_time = now_ms(), work_started = $2 WHERE ") +
      // PostgreSQL: the rows are locked by the pick (FOR UPDATE re-checks them), so
      // they are still Queued; testing it again would let the planner find them
      // through the queued-tasks index, all of it, instead of by their keys.
      (pg ? "id = ANY(ARRAY(" + pick + "))" : "id IN (" + pick + ") AND state = 'Queued'") +
      " RETURNING " + kColumns;
  auto rs = db_.Execute(sql, {node, false, limit});
  if (!rs) {
    if (rs.error().code() != ErrorCode::kAlreadyExists) return Fail(rs.error());
    // Two tasks with one concurrency tag: claimed by another node at the same moment (the unique
    // index let it win), or both in this batch (claim one alone, and the other waits its turn).
    if (limit == 1) return std::vector<Task>();
    return ClaimUpTo(node, 1);
  }
  std::vector<Task> out;
  for (const auto& r : rs->rows) out.push_back(ReadTask(r));
  std::sort(out.begin(), out.end(), [](const Task& a, const Task& b) {
    return std::tie(a.queue_time, a.seq) < std::tie(b.queue_time, b.seq);
  });
  return out;
}

Result<ClusterLoad> TaskQueue::Load(int64_t node_timeout_ms) {
  CUTTLE_TRY(
      auto rs,
      db_.Execute(
          std::string("SELECT (SELECT COUNT(*) FROM server_tasks WHERE state IN ") + kActive +
              "), (SELECT COUNT(*) FROM server_tasks WHERE state = 'Queued' AND NOT parked), "
              "(SELECT COALESCE(SUM(max_concurrent_tasks), 0) FROM server_nodes "
              "WHERE NOT is_in_maintenance_mode AND NOT is_offline_marked AND "
              "now_ms() - last_seen <= $1)",
          {node_timeout_ms}));
  const auto& r = rs.front();
  return ClusterLoad{r.GetInt(0), r.GetInt(1), r.GetInt(2)};
}

Result<void> TaskQueue::FencedUpdate(const Lease& lease, const std::string& set_clause,
                                     Params params) {
  // The fence takes $1..$3, so the SET clause's own parameters start at $4.
  repo::Where fence;
  AddLeaseHeld(fence, lease);
  Params all = fence.params();
  all.insert(all.end(), params.begin(), params.end());
  CUTTLE_TRY(auto rs, db_.Execute("UPDATE server_tasks SET " + set_clause + fence.Sql(), all));
  if (rs.affected == 0) {
    return Fail(Error::LostOwnership(fmt::format("{} is no longer executed by {} (claim {})",
                                                 lease.task_id, lease.node, lease.epoch)));
  }
  return {};
}

Result<void> TaskQueue::MarkWorkStarted(const Lease& lease) {
  return FencedUpdate(lease, "work_started = $4, last_updated_time = now_ms()", {true});
}

Result<void> TaskQueue::Touch(const Lease& lease, bool has_warnings_or_errors) {
  return FencedUpdate(lease,
                      "last_updated_time = now_ms(), has_warnings_or_errors = "
                      "(has_warnings_or_errors OR $4)",
                      {has_warnings_or_errors});
}

Result<void> TaskQueue::Complete(const Lease& lease, TaskState final_state,
                                 const std::string& error, bool has_warnings_or_errors,
                                 const std::optional<std::string>& log_text) {
  return FencedUpdate(lease,
                      "state = $4, error_message = $5, completed_time = now_ms(), "
                      "last_updated_time = now_ms(), has_warnings_or_errors = "
                      "(has_warnings_or_errors OR $6), log_text = $7",
                      {std::string(StateName(final_state)), OptText(error), has_warnings_or_errors,
                       log_text ? Value(*log_text) : Value()});
}

Result<std::optional<std::string>> TaskQueue::LogText(const std::string& id) {
  CUTTLE_TRY(auto rs, db_.Execute("SELECT log_text FROM server_tasks WHERE id = $1", {id}));
  if (rs.empty() || rs.front().IsNull(0)) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<void> TaskQueue::MarkLogsPurged(const std::string& id) {
  CUTTLE_TRY_VOID(db_.Execute(
      "UPDATE server_tasks SET logs_purged = $2, log_text = NULL WHERE id = $1", {id, true}));
  return {};
}

Result<void> TaskQueue::Requeue(const Lease& lease) {
  CUTTLE_TRY_VOID(FencedUpdate(lease,
                               "state = 'Queued', server_node = NULL, start_time = NULL, "
                               "work_started = $4, last_updated_time = now_ms(), "
                               // A resumable task (a deployment) has started: its expiry, the
                               // time it had to start by, must not stop its adoption.
                               "queue_time_expiry = CASE WHEN idempotent THEN NULL ELSE "
                               "queue_time_expiry END",
                               {false}));
  (void)db_.Notify(kWakeChannel, lease.task_id);
  return {};
}

Result<void> TaskQueue::ParkIn(db::Transaction& tx, const Lease& lease,
                               bool has_warnings_or_errors) {
  repo::Where w;
  AddLeaseHeld(w, lease);
  w.Add("state = {}", std::string("Executing"));
  const size_t flags = w.next_parameter();
  db::Params params = w.params();
  params.push_back(true);                    // parked
  params.push_back(false);                   // work_started
  params.push_back(has_warnings_or_errors);  // OR-ed: never clears what an earlier claim recorded
  // QueueTimeExpiry is when the task must have started: it has, so a late answer cannot expire it.
  CUTTLE_TRY(auto rs, tx.Execute(fmt::format("UPDATE server_tasks SET state = 'Queued', parked = "
                                             "${}, server_node = NULL, work_started = ${}, "
                                             "queue_time_expiry = NULL, "
                                             "has_warnings_or_errors = (has_warnings_or_errors OR "
                                             "${}), last_updated_time = now_ms(){} RETURNING id",
                                             flags, flags + 1, flags + 2, w.Sql()),
                                 params));
  if (rs.empty()) return Fail(Error::LostOwnership(lease.task_id));
  return {};
}

Result<bool> TaskQueue::UnparkIn(db::Transaction& tx, const std::string& id) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE server_tasks SET parked = $2, last_updated_time = "
                                 "now_ms() WHERE id = $1 AND parked AND state = 'Queued' "
                                 "RETURNING id",
                                 {id, false}));
  return !rs.empty();
}

Result<std::vector<Task>> TaskQueue::Held(const std::vector<Lease>& leases) {
  std::vector<Task> out;
  if (leases.empty()) return out;
  // (held 1) OR (held 2) ...: one statement for every task the node runs.
  std::string any;
  std::vector<db::Value> values;
  for (const auto& lease : leases) {
    repo::Where one;
    AddLeaseHeld(one, lease);
    any += std::string(any.empty() ? "(" : " OR (") + kLeaseHeld + ")";
    for (const auto& v : one.params()) values.push_back(v);
  }
  repo::Where w;
  w.AddList("(" + any + ")", std::move(values));
  return repo::SelectAll<Task>(db_, kColumns, "server_tasks", w, "seq", ReadTask);
}

Result<Task> TaskQueue::Cancel(const std::string& id) {
  CUTTLE_TRY_VOID(db_.Execute(
      "UPDATE server_tasks SET state = CASE WHEN state = 'Queued' THEN 'Canceled' ELSE "
      "'Cancelling' END, completed_time = CASE WHEN state = 'Queued' THEN now_ms() ELSE "
      "completed_time END, last_updated_time = now_ms(), parked = $2 WHERE id = $1 AND state IN "
      "('Queued', 'Executing')",
      {id, false}));
  (void)db_.Notify(kCancelChannel, id);
  CUTTLE_TRY(auto task, Get(id));
  if (!task) return Fail(Error::NotFound("task", id));
  return *task;
}

Result<Task> TaskQueue::Rerun(const std::string& id, const std::string& created_by) {
  CUTTLE_TRY(auto old, Get(id));
  if (!old) return Fail(Error::NotFound("task", id));
  if (!IsFinal(old->state)) {
    return Fail(Error::Conflict(
        fmt::format("{} is {}: only a finished task can be re-run", id, StateName(old->state))));
  }
  NewTask n;
  n.space_id = old->space_id;
  n.name = old->name;
  n.description = old->description;
  n.arguments = old->arguments;
  n.concurrency_tag = old->concurrency_tag;
  n.idempotent = old->idempotent;
  n.rerun_of = old->id;
  n.created_by = created_by;
  return Enqueue(n);
}

Result<std::vector<Task>> TaskQueue::FindOrphans(int64_t node_timeout_ms,
                                                 const std::optional<std::string>& own_node) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM server_tasks t WHERE t.state IN " +
                    kActive + " AND ";
  Params params;
  if (own_node) {
    sql += "t.server_node = $1";
    params = {*own_node};
  } else {
    sql +=
        "NOT EXISTS (SELECT 1 FROM server_nodes n WHERE n.name = t.server_node AND NOT "
        "n.is_offline_marked AND now_ms() - n.last_seen <= $1)";
    params = {node_timeout_ms};
  }
  CUTTLE_TRY(auto rs, db_.Execute(sql + " ORDER BY t.seq", params));
  std::vector<Task> out;
  for (const auto& r : rs.rows) out.push_back(ReadTask(r));
  return out;
}

Result<bool> TaskQueue::ResolveOrphan(const Task& t, const std::string& error_message) {
  Lease lease{t.id, t.server_node, t.claim_epoch};
  Result<void> r;
  switch (OrphanPolicy(t)) {
    case Orphan::kRequeue:
      r = Requeue(lease);
      break;
    case Orphan::kCancel:
      r = Complete(lease, TaskState::kCanceled, error_message, false);
      break;
    case Orphan::kFail:
      r = Complete(lease, TaskState::kFailed, error_message, true);
      break;
  }
  if (!r) {
    if (r.error().code() == ErrorCode::kLostOwnership) return false;
    return Fail(r.error());
  }
  return true;
}

Result<std::vector<Task>> TaskQueue::ClaimedBy(const std::string& node, int64_t older_than_ms) {
  CUTTLE_TRY(auto rs,
             db_.Execute(std::string("SELECT ") + kColumns +
                             " FROM server_tasks WHERE server_node = $1 AND state IN " + kActive +
                             " AND last_updated_time < now_ms() - $2 ORDER BY seq",
                         {node, older_than_ms}));
  std::vector<Task> out;
  for (const auto& r : rs.rows) out.push_back(ReadTask(r));
  return out;
}

Result<int64_t> TaskQueue::ExpireQueued() {
  CUTTLE_TRY(
      auto rs,
      db_.Execute("UPDATE server_tasks SET state = 'TimedOut', completed_time = "
                  "now_ms(), last_updated_time = now_ms(), error_message = "
                  "'The task was not started before its queue time expired.' "
                  "WHERE state = 'Queued' AND NOT parked AND queue_time_expiry IS NOT NULL AND "
                  "queue_time_expiry <= now_ms()"));
  return rs.affected;
}

Result<std::vector<Task>> TaskQueue::FinishedBefore(int64_t cutoff_ms, int64_t limit) {
  CUTTLE_TRY(auto rs,
             db_.Execute(std::string("SELECT ") + kColumns +
                             " FROM server_tasks WHERE completed_time IS NOT NULL AND "
                             "completed_time < $1 AND NOT logs_purged ORDER BY seq LIMIT $2",
                         {cutoff_ms, limit}));
  std::vector<Task> out;
  for (const auto& r : rs.rows) out.push_back(ReadTask(r));
  return out;
}

Result<std::optional<Task>> TaskQueue::Get(const std::string& id) {
  CUTTLE_TRY(auto rs, db_.Execute(std::string("SELECT ") + kColumns +
                                      " FROM server_tasks WHERE LOWER(id) = LOWER($1)",
                                  {id}));
  if (rs.empty()) return std::optional<Task>();
  return std::optional<Task>(ReadTask(rs.front()));
}

Result<repo::Page<Task>> TaskQueue::List(const TaskFilter& f) {
  repo::Where w;
  if (f.space_id) w.Add("space_id = {}", *f.space_id);
  if (!f.ids.empty()) {
    // Clients spell ids in any case; matched in their canonical spelling so the primary key
    // serves the lookup (lower(id) would scan the table on every waiter poll).
    std::vector<std::string> ids;
    for (const auto& id : f.ids) {
      if (auto n = core::ParseId("ServerTasks", id)) ids.push_back(core::MakeId("ServerTasks", *n));
    }
    w.In("id", ids);
  }
  if (!f.states.empty()) {
    // A parked task is Queued in its row and Executing to the API (model::TaskJson).
    std::string in;
    std::vector<db::Value> names;
    bool executing = false;
    for (auto s : f.states) {
      in += in.empty() ? "{}" : ", {}";
      names.emplace_back(std::string(StateName(s)));
      executing = executing || s == TaskState::kExecuting;
    }
    w.AddList("((state IN (" + in + ") AND NOT (state = 'Queued' AND parked))" +
                  (executing ? " OR (state = 'Queued' AND parked))" : ")"),
              std::move(names));
  }
  if (f.node) w.Add("server_node = {}", *f.node);
  if (f.name) w.Add("LOWER(name) = LOWER({})", *f.name);
  if (f.active) w.Raw("state IN ('Queued', 'Executing', 'Cancelling')");
  if (f.running) w.Raw(std::string("(state IN ") + kActive + " OR (state = 'Queued' AND parked))");
  if (f.has_pending_interruptions) {
    w.Raw(std::string(*f.has_pending_interruptions ? "" : "NOT ") +
          "EXISTS (SELECT 1 FROM interruptions i WHERE i.task_id = server_tasks.id AND "
          "i.is_pending)");
  }
  repo::PageQuery q;
  q.skip = f.ids.empty() ? f.skip : 0;
  q.take = f.ids.empty() ? f.take : static_cast<int64_t>(f.ids.size());
  return repo::SelectPage<Task>(db_, kColumns, "server_tasks", w, "seq DESC", q, ReadTask);
}

}  // namespace cuttle::tasks
