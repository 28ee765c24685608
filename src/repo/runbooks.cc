#include "repo/runbooks.h"

#include "core/ids.h"
#include "core/json.h"
#include "core/strings.h"
#include "repo/settings.h"

namespace cuttle::repo {

namespace {

nlohmann::json Doc(const db::Row& r, std::string_view column) {
  return core::ParseJson(r.GetString(column)).value_or(nlohmann::json::object());
}

constexpr const char* kRunbookColumns =
    "id, seq, space_id, project_id, name, process_id, published_snapshot_id, revision, json";
RunbookRow ReadRunbook(const db::Row& r) {
  return RunbookRow{r.GetString("id"),
                    r.GetInt("seq"),
                    r.GetString("space_id"),
                    r.GetString("project_id"),
                    r.GetString("name"),
                    r.GetString("process_id"),
                    r.GetOptionalString("published_snapshot_id"),
                    Doc(r, "json"),
                    r.GetInt("revision")};
}

constexpr const char* kSnapshotColumns = "id, seq, space_id, project_id, runbook_id, name, json";
RunbookSnapshotRow ReadSnapshot(const db::Row& r) {
  RunbookSnapshotRow s{r.GetString("id"),
                       r.GetInt("seq"),
                       r.GetString("space_id"),
                       r.GetString("project_id"),
                       r.GetString("runbook_id"),
                       r.GetString("name"),
                       Doc(r, "json")};
  s.assembled = s.json.value("AssembledMs", int64_t{0});
  return s;
}

constexpr const char* kRunColumns =
    "id, seq, space_id, project_id, runbook_id, snapshot_id, environment_id, task_id, created, "
    "json";
RunbookRunRow ReadRun(const db::Row& r) {
  return RunbookRunRow{r.GetString("id"),
                       r.GetInt("seq"),
                       r.GetString("space_id"),
                       r.GetString("project_id"),
                       r.GetString("runbook_id"),
                       r.GetString("snapshot_id"),
                       r.GetString("environment_id"),
                       r.GetString("task_id"),
                       r.GetInt("created"),
                       Doc(r, "json")};
}

db::Value OptText(const std::optional<std::string>& s) { return s ? db::Value(*s) : db::Value(); }

// The id_sequences counter that numbers a runbook's unnamed snapshots.
std::string SnapshotNameSequence(const std::string& runbook_id) {
  return "RunbookSnapshotNames/" + runbook_id;
}

}  // namespace

Result<Page<RunbookRow>> ListRunbooks(db::Database& db, const RunbookFilter& f,
                                      const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.project_id) w.Add("project_id = {}", *f.project_id);
  w.ListFilters(q);
  return SelectPage<RunbookRow>(db, kRunbookColumns, "runbooks", w, ByteOrder("name_key") + ", seq",
                                q, ReadRunbook);
}

Result<std::optional<RunbookRow>> FindRunbook(db::Database& db, const std::string& space_id,
                                              const std::string& id) {
  Where w;
  w.Add("lower(id) = lower({})", id).Add("space_id = {}", space_id);
  CUTTLE_TRY(auto rows,
             SelectAll<RunbookRow>(db, kRunbookColumns, "runbooks", w, "seq", ReadRunbook));
  if (rows.empty()) return std::optional<RunbookRow>();
  return std::optional<RunbookRow>(std::move(rows.front()));
}

Result<std::optional<RunbookRow>> FindRunbookByName(db::Database& db, const std::string& project_id,
                                                    const std::string& name) {
  Where w;
  w.Add("project_id = {}", project_id).Add("name_key = {}", core::ToLower(name));
  CUTTLE_TRY(auto rows,
             SelectAll<RunbookRow>(db, kRunbookColumns, "runbooks", w, "seq", ReadRunbook));
  if (rows.empty()) return std::optional<RunbookRow>();
  return std::optional<RunbookRow>(std::move(rows.front()));
}

Result<int64_t> NextRunbookSeq(db::Transaction& tx) { return NextSequenceValue(tx, "Runbooks"); }

Result<RunbookRow> InsertRunbook(db::Transaction& tx, RunbookRow row) {
  CUTTLE_TRY(auto dup, tx.Execute("SELECT id FROM runbooks WHERE project_id = $1 AND name_key = $2",
                                  {row.project_id, core::ToLower(row.name)}));
  const std::string taken =
      "A runbook with the name '" + row.name + "' already exists in this project.";
  if (!dup.empty()) return Fail(Error::AlreadyExists(taken));
  if (row.seq == 0) {
    CUTTLE_TRY(row.seq, NextRunbookSeq(tx));
  }
  row.id = core::MakeId("Runbooks", row.seq);
  auto rs = tx.Execute(
      "INSERT INTO runbooks (id, seq, space_id, project_id, name, name_key, process_id, "
      "published_snapshot_id, json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {row.id, row.seq, row.space_id, row.project_id, row.name, core::ToLower(row.name),
       row.process_id, OptText(row.published_snapshot_id), row.json.dump()});
  if (!rs) {
    if (rs.error().code() == ErrorCode::kAlreadyExists) return Fail(Error::AlreadyExists(taken));
    return Fail(rs.error());
  }
  return row;
}

Result<std::optional<int64_t>> UpdateRunbook(db::Transaction& tx, const RunbookRow& row,
                                             int64_t expected_revision) {
  const std::string taken =
      "A runbook with the name '" + row.name + "' already exists in this project.";
  CUTTLE_TRY(auto dup, tx.Execute("SELECT id FROM runbooks WHERE project_id = $1 AND name_key = $2 "
                                  "AND id <> $3",
                                  {row.project_id, core::ToLower(row.name), row.id}));
  if (!dup.empty()) return Fail(Error::AlreadyExists(taken));
  auto rs = tx.Execute(
      "UPDATE runbooks SET name = $3, name_key = $4, published_snapshot_id = $5, json = $6, "
      "revision = revision + 1 WHERE id = $1 AND revision = $2 RETURNING revision",
      {row.id, expected_revision, row.name, core::ToLower(row.name),
       OptText(row.published_snapshot_id), row.json.dump()});
  if (!rs) {
    if (rs.error().code() == ErrorCode::kAlreadyExists) return Fail(Error::AlreadyExists(taken));
    return Fail(rs.error());
  }
  if (rs->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rs->front().GetInt(0));
}

Result<bool> PublishRunbookSnapshot(db::Transaction& tx, const std::string& runbook_id,
                                    const std::string& snapshot_id) {
  CUTTLE_TRY(auto rs, tx.Execute("UPDATE runbooks SET published_snapshot_id = $2, "
                                 "revision = revision + 1 WHERE id = $1",
                                 {runbook_id, snapshot_id}));
  return rs.affected > 0;
}

Result<bool> LockRunbook(db::Transaction& tx, db::Dialect dialect, const std::string& id,
                         bool for_delete) {
  // SQLite's single writer already excludes every other writer.
  std::string sql = "SELECT id FROM runbooks WHERE id = $1";
  if (dialect == db::Dialect::kPostgres) sql += for_delete ? " FOR UPDATE" : " FOR SHARE";
  CUTTLE_TRY(auto rs, tx.Execute(sql, {id}));
  return !rs.empty();
}

Result<std::optional<std::string>> ActiveRunbookRunTask(db::Transaction& tx,
                                                        const std::string& runbook_id) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT t.id FROM runbook_runs r JOIN server_tasks t ON t.id = "
                                 "r.task_id WHERE r.runbook_id = $1 AND t.state IN ('Queued', "
                                 "'Executing', 'Cancelling') ORDER BY t.seq LIMIT 1",
                                 {runbook_id}));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<void> DeleteRunbook(db::Transaction& tx, const std::string& id) {
  // Its snapshots, the processes it owns (the live one and the snapshots' frozen copies), its
  // frozen variable sets and the counter that names its snapshots go with it; its runs stay as
  // history.
  for (const char* sql : {
           "DELETE FROM runbook_snapshots WHERE runbook_id = $1",
           "DELETE FROM processes WHERE owner_id = $1",
           "DELETE FROM variable_sets WHERE owner_id = $1",
           "DELETE FROM runbooks WHERE id = $1",
       }) {
    CUTTLE_TRY_VOID(tx.Execute(sql, {id}));
  }
  CUTTLE_TRY_VOID(
      tx.Execute("DELETE FROM id_sequences WHERE name = $1", {SnapshotNameSequence(id)}));
  return {};
}

Result<Page<RunbookSnapshotRow>> ListRunbookSnapshots(db::Database& db, const std::string& space_id,
                                                      const std::optional<std::string>& runbook,
                                                      const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", space_id);
  if (runbook) w.Add("runbook_id = {}", *runbook);
  w.ListFilters(q);
  return SelectPage<RunbookSnapshotRow>(db, kSnapshotColumns, "runbook_snapshots", w, "seq DESC", q,
                                        ReadSnapshot);
}

Result<std::optional<RunbookSnapshotRow>> FindRunbookSnapshot(
    db::Database& db, const std::string& space_id, const std::string& id_or_name,
    const std::optional<std::string>& runbook_id) {
  Where w;
  w.Add("space_id = {}", space_id);
  if (runbook_id) {
    w.Add("runbook_id = {}", *runbook_id)
        .Add("(lower(id) = lower({}) OR name_key = lower({}))", id_or_name, id_or_name);
  } else {
    w.Add("lower(id) = lower({})", id_or_name);
  }
  CUTTLE_TRY(auto rows, SelectAll<RunbookSnapshotRow>(db, kSnapshotColumns, "runbook_snapshots", w,
                                                      "seq", ReadSnapshot));
  if (rows.empty()) return std::optional<RunbookSnapshotRow>();
  return std::optional<RunbookSnapshotRow>(std::move(rows.front()));
}

Result<RunbookSnapshotRow> InsertRunbookSnapshot(db::Transaction& tx, RunbookSnapshotRow row) {
  if (row.name.empty()) {
    // "Snapshot <n>", n from the runbook's own counter: two snapshots made at once take distinct
    // numbers (the counter's row is locked by the first until it commits). A number whose name is
    // already taken (a snapshot named so by hand, or made before the counter) is skipped.
    for (;;) {
      CUTTLE_TRY(auto n, NextSequenceValue(tx, SnapshotNameSequence(row.runbook_id)));
      row.name = "Snapshot " + std::to_string(n);
      CUTTLE_TRY(auto taken, tx.Execute("SELECT 1 FROM runbook_snapshots WHERE runbook_id = $1 "
                                        "AND name_key = $2",
                                        {row.runbook_id, core::ToLower(row.name)}));
      if (taken.empty()) break;
    }
  }
  CUTTLE_TRY(auto dup, tx.Execute("SELECT id FROM runbook_snapshots WHERE runbook_id = $1 AND "
                                  "name_key = $2",
                                  {row.runbook_id, core::ToLower(row.name)}));
  if (!dup.empty()) {
    return Fail(Error::AlreadyExists("A snapshot named '" + row.name +
                                     "' already exists for this runbook."));
  }
  CUTTLE_TRY(row.seq, NextSequenceValue(tx, "RunbookSnapshots"));
  row.id = core::MakeId("RunbookSnapshots", row.seq);
  CUTTLE_TRY(auto now, tx.Execute("SELECT now_ms()"));
  row.assembled = now.front().GetInt(0);
  row.json["AssembledMs"] = row.assembled;
  CUTTLE_TRY_VOID(
      tx.Execute("INSERT INTO runbook_snapshots (id, seq, space_id, project_id, "
                 "runbook_id, name, name_key, json) VALUES ($1, $2, $3, $4, $5, $6, "
                 "$7, $8)",
                 {row.id, row.seq, row.space_id, row.project_id, row.runbook_id, row.name,
                  core::ToLower(row.name), row.json.dump()}));
  return row;
}

Result<int64_t> NextRunbookRunSeq(db::Transaction& tx) {
  return NextSequenceValue(tx, "RunbookRuns");
}

Result<RunbookRunRow> InsertRunbookRun(db::Transaction& tx, RunbookRunRow row) {
  if (row.seq == 0) {
    CUTTLE_TRY(row.seq, NextRunbookRunSeq(tx));
  }
  row.id = core::MakeId("RunbookRuns", row.seq);
  CUTTLE_TRY(auto rs,
             tx.Execute("INSERT INTO runbook_runs (id, seq, space_id, project_id, runbook_id, "
                        "snapshot_id, environment_id, task_id, created, json) VALUES ($1, $2, "
                        "$3, $4, $5, $6, $7, $8, now_ms(), $9) RETURNING created",
                        {row.id, row.seq, row.space_id, row.project_id, row.runbook_id,
                         row.snapshot_id, row.environment_id, row.task_id, row.json.dump()}));
  row.created = rs.front().GetInt(0);
  return row;
}

Result<Page<RunbookRunRow>> ListRunbookRuns(db::Database& db, const std::string& space_id,
                                            const std::vector<std::string>& projects,
                                            const std::vector<std::string>& runbooks,
                                            const std::vector<std::string>& environments,
                                            const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", space_id);
  if (!projects.empty()) w.InIgnoreCase("project_id", projects);
  if (!runbooks.empty()) w.InIgnoreCase("runbook_id", runbooks);
  if (!environments.empty()) w.InIgnoreCase("environment_id", environments);
  if (q.ids) w.InIgnoreCase("id", *q.ids);
  return SelectPage<RunbookRunRow>(db, kRunColumns, "runbook_runs", w, "seq DESC", q, ReadRun);
}

Result<std::optional<RunbookRunRow>> FindRunbookRun(db::Database& db, const std::string& space_id,
                                                    const std::string& id) {
  Where w;
  w.Add("lower(id) = lower({})", id).Add("space_id = {}", space_id);
  CUTTLE_TRY(auto rows,
             SelectAll<RunbookRunRow>(db, kRunColumns, "runbook_runs", w, "seq", ReadRun));
  if (rows.empty()) return std::optional<RunbookRunRow>();
  return std::optional<RunbookRunRow>(std::move(rows.front()));
}

}  // namespace cuttle::repo
