// The releases aggregate (rows of `releases`). A release's frozen process and variables are rows
// of processes and variable_sets (repo/processes.h, repo/variable_sets.h). Thread-safe as the
// Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct ReleaseRow {
  std::string id;
  int64_t seq = 0;
  std::string space_id;
  std::string project_id;
  std::string channel_id;
  std::string version;
  int64_t assembled = 0;  // ms
  int64_t revision = 0;   // raised by every UpdateRelease (optimistic saves)
  // The rest of the Octopus document: ReleaseNotes, SelectedPackages, the snapshot ids...
  nlohmann::json json = nlohmann::json::object();
};

struct ReleaseFilter {
  std::string space_id;
  std::optional<std::string> project_id;
  std::optional<std::string> channel_id;
  std::optional<std::string> version_contains;  // searchByVersion
};

// Newest first.
Result<Page<ReleaseRow>> ListReleases(db::Database& db, const ReleaseFilter& f, const PageQuery& q);
// By id in `space_id`, case-insensitively.
Result<std::optional<ReleaseRow>> FindRelease(db::Database& db, const std::string& space_id,
                                              const std::string& id);
Result<std::optional<ReleaseRow>> FindReleaseByVersion(db::Database& db,
                                                       const std::string& project_id,
                                                       const std::string& version);
// The newest release of the project (of the channel, when given), for the versioning template.
Result<std::optional<std::string>> LatestReleaseVersion(db::Transaction& tx,
                                                        const std::string& project_id,
                                                        const std::optional<std::string>& channel);
// Assigns id, seq and assembled (database clock). A version the project already has is
// AlreadyExists naming it.
Result<ReleaseRow> InsertRelease(db::Transaction& tx, ReleaseRow row);
// Writes `row`'s version and document if the stored release is still at `expected_revision`:
// the new revision, or nullopt (nothing written) when someone else saved it in between. A
// version another release of the project has is AlreadyExists. `stored_version` is the version
// the caller read at `expected_revision`: when `row` keeps it, no other release can hold it, and
// the duplicate check is skipped.
Result<std::optional<int64_t>> UpdateRelease(db::Transaction& tx, const ReleaseRow& row,
                                             int64_t expected_revision,
                                             std::string_view stored_version);
// Deletes the release with its frozen process and variable sets; false when there was none. Its
// deployments are the caller's (repo::DeleteDeploymentsOfRelease) to delete first.
Result<bool> DeleteRelease(db::Transaction& tx, const std::string& id);

// For a project being deleted: the id of one of its deployments or runbook runs still queued or
// running, if any (the delete is then refused).
Result<std::optional<std::string>> ActiveProjectTask(db::Transaction& tx,
                                                     const std::string& project_id);
// Deletes what the release model keeps for a project: its dashboard cells, deployments, releases
// (with their frozen variable sets), runbook runs and snapshots, and its runbooks with their
// processes and frozen variables. The project's own processes (the live one and the releases'
// frozen copies, all owned by the project) are the project model's to delete.
Result<void> DeleteProjectReleaseModel(db::Transaction& tx, const std::string& project_id);
// How many releases a channel has.
Result<int64_t> CountChannelReleases(db::Transaction& tx, const std::string& channel_id);

// A snapshot id: "<prefix>-s-<n>", n from one sequence shared by every snapshot (the frozen
// processes and variable sets of releases and runbook snapshots).
Result<std::string> NextSnapshotId(db::Transaction& tx, const std::string& prefix);

}  // namespace cuttle::repo
