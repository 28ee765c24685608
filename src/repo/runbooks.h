// The runbooks aggregate (rows of `runbooks`), their snapshots (`runbook_snapshots`) and runs
// (`runbook_runs`). Thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct RunbookRow {
  std::string id;
  int64_t seq = 0;
  std::string space_id;
  std::string project_id;
  std::string name;
  std::string process_id;
  std::optional<std::string> published_snapshot_id;
  nlohmann::json json = nlohmann::json::object();  // Description, EnvironmentScope, ...
  int64_t revision = 0;  // raised by every write of the row (optimistic saves)
};

struct RunbookFilter {
  std::string space_id;
  std::optional<std::string> project_id;
};

// Ordered by name.
Result<Page<RunbookRow>> ListRunbooks(db::Database& db, const RunbookFilter& f, const PageQuery& q);
Result<std::optional<RunbookRow>> FindRunbook(db::Database& db, const std::string& space_id,
                                              const std::string& id);
// By name within a project, case-insensitively.
Result<std::optional<RunbookRow>> FindRunbookByName(db::Database& db, const std::string& project_id,
                                                    const std::string& name);
// Assigns id and seq when they are empty; the name taken in the project is AlreadyExists.
Result<RunbookRow> InsertRunbook(db::Transaction& tx, RunbookRow row);
// Writes `row` if the stored runbook is still at `expected_revision`: the new revision, or nullopt
// (nothing written) when someone else saved it in between. A name another runbook of the project
// has is AlreadyExists.
Result<std::optional<int64_t>> UpdateRunbook(db::Transaction& tx, const RunbookRow& row,
                                             int64_t expected_revision);
// Makes `snapshot_id` the runbook's published snapshot, writing nothing else (so no edit is
// overwritten) and raising the revision (so an edit read before it is refused); false when there
// is no such runbook.
Result<bool> PublishRunbookSnapshot(db::Transaction& tx, const std::string& runbook_id,
                                    const std::string& snapshot_id);
// Deletes the runbook with its snapshots, processes and frozen variable sets (not its runs).
Result<void> DeleteRunbook(db::Transaction& tx, const std::string& id);
// Locks the runbook's row until the transaction ends: exclusively before a delete (`for_delete`),
// shared before queuing a run, so that a run queued concurrently with a delete is either seen by
// the delete's check (ActiveRunbookRunTask) or finds the runbook gone. False if it is gone.
Result<bool> LockRunbook(db::Transaction& tx, db::Dialect dialect, const std::string& id,
                         bool for_delete);
// The server task of a run of the runbook that is still queued or executing (it reads the
// snapshot's frozen variables, which the delete removes), if any.
Result<std::optional<std::string>> ActiveRunbookRunTask(db::Transaction& tx,
                                                        const std::string& runbook_id);
Result<int64_t> NextRunbookSeq(db::Transaction& tx);

struct RunbookSnapshotRow {
  std::string id;
  int64_t seq = 0;
  std::string space_id;
  std::string project_id;
  std::string runbook_id;
  std::string name;
  nlohmann::json json = nlohmann::json::object();  // Notes, FrozenRunbookProcessId, ...
  int64_t assembled = 0;
};
Result<Page<RunbookSnapshotRow>> ListRunbookSnapshots(db::Database& db, const std::string& space_id,
                                                      const std::optional<std::string>& runbook,
                                                      const PageQuery& q);
// By id, or by name within the runbook when `runbook_id` is given.
Result<std::optional<RunbookSnapshotRow>> FindRunbookSnapshot(
    db::Database& db, const std::string& space_id, const std::string& id_or_name,
    const std::optional<std::string>& runbook_id = std::nullopt);
// Assigns id, seq and assembled; an empty name becomes "Snapshot <n>", n counting the runbook's
// unnamed snapshots (race-free, skipping names taken). A name taken is AlreadyExists.
Result<RunbookSnapshotRow> InsertRunbookSnapshot(db::Transaction& tx, RunbookSnapshotRow row);

struct RunbookRunRow {
  std::string id;
  int64_t seq = 0;
  std::string space_id;
  std::string project_id;
  std::string runbook_id;
  std::string snapshot_id;
  std::string environment_id;
  std::string task_id;
  int64_t created = 0;
  nlohmann::json json = nlohmann::json::object();
};
Result<int64_t> NextRunbookRunSeq(db::Transaction& tx);
Result<RunbookRunRow> InsertRunbookRun(db::Transaction& tx, RunbookRunRow row);
Result<Page<RunbookRunRow>> ListRunbookRuns(db::Database& db, const std::string& space_id,
                                            const std::vector<std::string>& projects,
                                            const std::vector<std::string>& runbooks,
                                            const std::vector<std::string>& environments,
                                            const PageQuery& q);
Result<std::optional<RunbookRunRow>> FindRunbookRun(db::Database& db, const std::string& space_id,
                                                    const std::string& id);

}  // namespace cuttle::repo
