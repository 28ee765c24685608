// The deployments aggregate (rows of `deployments`), the dashboard's latest deployment per
// project and environment (rows of `dashboard_latest`, kept in the transaction of every insert
// and delete), and the reads that join them with their server task. Thread-safe as the Database
// is.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct DeploymentRow {
  std::string id;
  int64_t seq = 0;
  std::string space_id;
  std::string project_id;
  std::string environment_id;
  std::string release_id;
  std::string channel_id;
  std::string task_id;
  int64_t created = 0;  // ms
  // The rest of the Octopus document: Name, Comments, SkipActions, FormValues...
  nlohmann::json json = nlohmann::json::object();
};

struct DeploymentFilter {
  std::string space_id;
  std::vector<std::string> projects, environments, channels, releases;  // any of; empty: all
  std::vector<std::string> task_states;  // the server task's state, any of
};

// Newest first.
Result<Page<DeploymentRow>> ListDeployments(db::Database& db, const DeploymentFilter& f,
                                            const PageQuery& q);
Result<std::optional<DeploymentRow>> FindDeployment(db::Database& db, const std::string& space_id,
                                                    const std::string& id);
// Assigns id, seq and created (database clock); `row.task_id` must be set. Makes it the
// dashboard's latest deployment of its project and environment.
Result<DeploymentRow> InsertDeployment(db::Transaction& tx, DeploymentRow row);
// The id the next InsertDeployment would take is not knowable; this reserves one, for a task
// whose arguments must name the deployment before the row exists.
Result<int64_t> ReserveDeploymentSeq(db::Transaction& tx);
// Deletes a deployment and puts the next newest one of its project and environment on the
// dashboard. False when there was none.
Result<bool> DeleteDeployment(db::Transaction& tx, const std::string& id);
// Deletes every deployment of a release (with the dashboard cells they held).
Result<void> DeleteDeploymentsOfRelease(db::Transaction& tx, const std::string& release_id);

// Environments where the release has a deployment whose task succeeded.
Result<std::set<std::string>> SucceededEnvironments(db::Database& db,
                                                    const std::string& release_id);

// One dashboard cell: a deployment with its release version and its task's state and times.
struct DashboardItem {
  std::string project_id, environment_id, release_id, release_version, deployment_id, task_id,
      channel_id;
  int64_t created = 0;
  int64_t queue_time = 0;
  std::optional<int64_t> start_time, completed_time;
  std::string state;
  std::string error_message;
  bool has_warnings_or_errors = false;
  bool has_pending_interruptions = false;  // its task is parked, waiting for an answer
};
// The same cell as views of the database's result (ForEachDashboardItem), valid only during the
// callback.
struct DashboardItemRef {
  std::string_view project_id, environment_id, release_id, release_version, deployment_id, task_id,
      channel_id;
  int64_t created = 0;
  int64_t queue_time = 0;
  std::optional<int64_t> start_time, completed_time;
  std::string_view state;
  std::string_view error_message;
  bool has_warnings_or_errors = false;
  bool has_pending_interruptions = false;
};
DashboardItemRef Ref(const DashboardItem& i);
// The newest deployment per project and environment in the space: the rows of dashboard_latest,
// which carry the release version and the task's state and times (a trigger on server_tasks
// keeps those current), so the read joins nothing.
Result<std::vector<DashboardItem>> DashboardItems(db::Database& db, const std::string& space_id);
// The same cells read in place, one call of `item` each; with `changed_after`, only the cells
// written by a commit that raised the space's counter past that value (migration 0014), which
// are all the cells that changed since a dashboard built at that value unless a cell was deleted
// (DashboardVersions::layout).
Result<void> ForEachDashboardItem(db::Database& db, const std::string& space_id,
                                  std::optional<int64_t> changed_after,
                                  const std::function<void(const DashboardItemRef&)>& item);
// The project and environment of each of the space's cells.
Result<void> ForEachDashboardCell(
    db::Database& db, const std::string& space_id,
    const std::function<void(std::string_view project_id, std::string_view environment_id)>& cell);
// The space's dashboard change counter (migration 0010): raised in the same transaction as any
// change to a row the dashboard shows; 0 before the first.
Result<int64_t> DashboardVersion(db::Database& db, const std::string& space_id);
struct DashboardVersions {
  int64_t version = 0;  // the change counter
  // The counter's value at the last change of a project, project group, environment or lifecycle,
  // or a cell's deletion: what only a full rebuild picks up.
  int64_t layout = 0;
};
// Both, read together (one statement).
Result<DashboardVersions> ReadDashboardVersions(db::Database& db, const std::string& space_id);
// A release's version changed: its cells show the new one.
Result<void> SetDashboardReleaseVersion(db::Transaction& tx, const std::string& release_id,
                                        const std::string& version);
// For each cell, the newest successful deployment before the current one (PreviousItems).
Result<std::vector<DashboardItem>> DashboardPreviousItems(db::Database& db,
                                                          const std::string& space_id);
// The deployments of a release with their task state, for its progression.
Result<std::vector<DashboardItem>> ReleaseDeploymentItems(db::Database& db,
                                                          const std::string& release_id);

}  // namespace cuttle::repo
