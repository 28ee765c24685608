#include "repo/deployments.h"

#include "core/ids.h"
#include "core/json.h"
#include "repo/settings.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "d.id, d.seq, d.space_id, d.project_id, d.environment_id, d.release_id, d.channel_id, "
    "d.task_id, d.created, d.json";

DeploymentRow ReadDeployment(const db::Row& r) {
  DeploymentRow row;
  row.id = r.GetString("id");
  row.seq = r.GetInt("seq");
  row.space_id = r.GetString("space_id");
  row.project_id = r.GetString("project_id");
  row.environment_id = r.GetString("environment_id");
  row.release_id = r.GetString("release_id");
  row.channel_id = r.GetString("channel_id");
  row.task_id = r.GetString("task_id");
  row.created = r.GetInt("created");
  row.json = core::ParseJson(r.GetString("json")).value_or(nlohmann::json::object());
  return row;
}

// A parked task (waiting for an interruption's answer) is Queued in its row and shown Executing
// with a pending interruption (model::TaskJson), here as in the dashboard_latest trigger.
#define CUTTLE_SHOWN_STATE \
  "CASE WHEN t.parked AND t.state = 'Queued' THEN 'Executing' ELSE t.state END"
#define CUTTLE_PENDING "(t.parked AND t.state = 'Queued')"

constexpr const char* kItemColumns =
    "d.project_id, d.environment_id, d.release_id, r.version, d.id, d.task_id, d.channel_id, "
    "d.created, t.queue_time, t.start_time, t.completed_time, " CUTTLE_SHOWN_STATE
    ", t.error_message, t.has_warnings_or_errors, " CUTTLE_PENDING;

DashboardItem ReadItem(const db::Row& r) {
  DashboardItem i;
  i.project_id = r.GetString(0);
  i.environment_id = r.GetString(1);
  i.release_id = r.GetString(2);
  i.release_version = r.GetString(3);
  i.deployment_id = r.GetString(4);
  i.task_id = r.GetString(5);
  i.channel_id = r.GetString(6);
  i.created = r.GetInt(7);
  i.queue_time = r.GetInt(8);
  if (!r.IsNull(9)) i.start_time = r.GetInt(9);
  if (!r.IsNull(10)) i.completed_time = r.GetInt(10);
  i.state = r.GetString(11);
  i.error_message = r.GetString(12);
  i.has_warnings_or_errors = r.GetBool(13);
  i.has_pending_interruptions = r.GetBool(14);
  return i;
}

Result<std::vector<DashboardItem>> Items(db::Database& db, const std::string& sql,
                                         const db::Params& params) {
  CUTTLE_TRY(auto rs, db.Execute(sql, params));
  std::vector<DashboardItem> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) out.push_back(ReadItem(r));
  return out;
}

// A cell's columns, and where they come from in a deployment joined with its release (r) and task
// (t).
constexpr const char* kCellColumns =
    "project_id, environment_id, space_id, deployment_seq, deployment_id, release_id, "
    "release_version, channel_id, task_id, created, queue_time, start_time, completed_time, "
    "state, error_message, has_warnings_or_errors, has_pending_interruptions";
constexpr const char* kCellValues =
    "d.project_id, d.environment_id, d.space_id, d.seq, d.id, d.release_id, r.version, "
    "d.channel_id, d.task_id, d.created, t.queue_time, t.start_time, "
    "t.completed_time, " CUTTLE_SHOWN_STATE
    ", t.error_message, t.has_warnings_or_errors, " CUTTLE_PENDING;

// Puts the newest remaining deployment of a project and environment on the dashboard, or clears
// the cell.
Result<void> RefreshCell(db::Transaction& tx, const std::string& project_id,
                         const std::string& environment_id) {
  CUTTLE_TRY_VOID(
      tx.Execute("DELETE FROM dashboard_latest WHERE project_id = $1 AND environment_id = $2",
                 {project_id, environment_id}));
  CUTTLE_TRY_VOID(tx.Execute(std::string("INSERT INTO dashboard_latest (") + kCellColumns +
                                 ") SELECT " + kCellValues +
                                 " FROM deployments d JOIN releases r ON r.id = d.release_id "
                                 "JOIN server_tasks t ON t.id = d.task_id WHERE d.project_id = "
                                 "$1 AND d.environment_id = $2 ORDER BY d.seq DESC LIMIT 1",
                             {project_id, environment_id}));
  return {};
}

}  // namespace

Result<Page<DeploymentRow>> ListDeployments(db::Database& db, const DeploymentFilter& f,
                                            const PageQuery& q) {
  Where w;
  w.Add("d.space_id = {}", f.space_id);
  if (!f.projects.empty()) w.InIgnoreCase("d.project_id", f.projects);
  if (!f.environments.empty()) w.InIgnoreCase("d.environment_id", f.environments);
  if (!f.channels.empty()) w.InIgnoreCase("d.channel_id", f.channels);
  if (!f.releases.empty()) w.InIgnoreCase("d.release_id", f.releases);
  std::string from = "deployments d";
  if (!f.task_states.empty()) {
    from += " JOIN server_tasks t ON t.id = d.task_id";
    w.In("(" CUTTLE_SHOWN_STATE ")", f.task_states);
  }
  if (q.ids) w.InIgnoreCase("d.id", *q.ids);
  return SelectPage<DeploymentRow>(db, kColumns, from, w, "d.seq DESC", q, ReadDeployment);
}

Result<std::optional<DeploymentRow>> FindDeployment(db::Database& db, const std::string& space_id,
                                                    const std::string& id) {
  auto seq = core::ParseId("Deployments", id);
  if (!seq) return std::optional<DeploymentRow>();
  Where w;
  w.Add("d.seq = {}", *seq).Add("d.space_id = {}", space_id);
  CUTTLE_TRY(auto rows,
             SelectAll<DeploymentRow>(db, kColumns, "deployments d", w, "d.seq", ReadDeployment));
  if (rows.empty()) return std::optional<DeploymentRow>();
  return std::optional<DeploymentRow>(std::move(rows.front()));
}

Result<int64_t> ReserveDeploymentSeq(db::Transaction& tx) {
  return NextSequenceValue(tx, "Deployments");
}

Result<DeploymentRow> InsertDeployment(db::Transaction& tx, DeploymentRow row) {
  if (row.seq == 0) {
    CUTTLE_TRY(row.seq, ReserveDeploymentSeq(tx));
  }
  row.id = core::MakeId("Deployments", row.seq);
  CUTTLE_TRY(auto rs,
             tx.Execute("INSERT INTO deployments (id, seq, space_id, project_id, environment_id, "
                        "release_id, channel_id, task_id, created, json) VALUES ($1, $2, $3, $4, "
                        "$5, $6, $7, $8, now_ms(), $9) RETURNING created",
                        {row.id, row.seq, row.space_id, row.project_id, row.environment_id,
                         row.release_id, row.channel_id, row.task_id, row.json.dump()}));
  row.created = rs.front().GetInt(0);
  // A newer deployment replaces the cell; an older one (two transactions crossing) leaves it.
  CUTTLE_TRY_VOID(tx.Execute(
      std::string("INSERT INTO dashboard_latest (") + kCellColumns + ") SELECT " + kCellValues +
          " FROM deployments d JOIN releases r ON r.id = d.release_id JOIN server_tasks t ON t.id "
          "= d.task_id WHERE d.id = $1 ON CONFLICT (project_id, environment_id) DO UPDATE SET "
          "deployment_seq = excluded.deployment_seq, deployment_id = excluded.deployment_id, "
          "release_id = excluded.release_id, release_version = excluded.release_version, "
          "channel_id = excluded.channel_id, task_id = excluded.task_id, created = "
          "excluded.created, queue_time = excluded.queue_time, start_time = excluded.start_time, "
          "completed_time = excluded.completed_time, state = excluded.state, error_message = "
          "excluded.error_message, has_warnings_or_errors = excluded.has_warnings_or_errors, "
          "has_pending_interruptions = excluded.has_pending_interruptions WHERE "
          "excluded.deployment_seq > dashboard_latest.deployment_seq",
      {row.id}));
  return row;
}

Result<bool> DeleteDeployment(db::Transaction& tx, const std::string& id) {
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM deployments WHERE id = $1 RETURNING project_id, "
                                 "environment_id",
                                 {id}));
  if (rs.empty()) return false;
  CUTTLE_TRY_VOID(RefreshCell(tx, rs.front().GetString(0), rs.front().GetString(1)));
  return true;
}

Result<void> DeleteDeploymentsOfRelease(db::Transaction& tx, const std::string& release_id) {
  CUTTLE_TRY(auto rs, tx.Execute("DELETE FROM deployments WHERE release_id = $1 RETURNING "
                                 "project_id, environment_id",
                                 {release_id}));
  std::set<std::pair<std::string, std::string>> cells;
  for (const auto& r : rs.rows) cells.emplace(r.GetString(0), r.GetString(1));
  for (const auto& [project, environment] : cells) {
    CUTTLE_TRY_VOID(RefreshCell(tx, project, environment));
  }
  return {};
}

Result<std::set<std::string>> SucceededEnvironments(db::Database& db,
                                                    const std::string& release_id) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT DISTINCT d.environment_id FROM deployments d JOIN "
                                 "server_tasks t ON t.id = d.task_id WHERE d.release_id = $1 AND "
                                 "t.state = 'Success'",
                                 {release_id}));
  std::set<std::string> out;
  for (const auto& r : rs.rows) out.insert(r.GetString(0));
  return out;
}

Result<std::vector<DashboardItem>> DashboardItems(db::Database& db, const std::string& space_id) {
  return Items(db,
               "SELECT project_id, environment_id, release_id, release_version, deployment_id, "
               "task_id, channel_id, created, queue_time, start_time, completed_time, state, "
               "error_message, has_warnings_or_errors, has_pending_interruptions FROM "
               "dashboard_latest WHERE space_id = $1",
               {space_id});
}

DashboardItemRef Ref(const DashboardItem& i) {
  DashboardItemRef r;
  r.project_id = i.project_id;
  r.environment_id = i.environment_id;
  r.release_id = i.release_id;
  r.release_version = i.release_version;
  r.deployment_id = i.deployment_id;
  r.task_id = i.task_id;
  r.channel_id = i.channel_id;
  r.created = i.created;
  r.queue_time = i.queue_time;
  r.start_time = i.start_time;
  r.completed_time = i.completed_time;
  r.state = i.state;
  r.error_message = i.error_message;
  r.has_warnings_or_errors = i.has_warnings_or_errors;
  r.has_pending_interruptions = i.has_pending_interruptions;
  return r;
}

Result<void> ForEachDashboardItem(db::Database& db, const std::string& space_id,
                                  std::optional<int64_t> changed_after,
                                  const std::function<void(const DashboardItemRef&)>& item) {
  std::string sql =
      "SELECT project_id, environment_id, release_id, release_version, deployment_id, task_id, "
      "channel_id, created, queue_time, start_time, completed_time, state, error_message, "
      "has_warnings_or_errors, has_pending_interruptions FROM dashboard_latest WHERE space_id = "
      "$1";
  db::Params params{space_id};
  if (changed_after) {
    sql += " AND change_version > $2";
    params.emplace_back(*changed_after);
  }
  return db.ForEachRow(sql, params, [&](const db::RowView& r) {
    DashboardItemRef i;
    i.project_id = r.Text(0);
    i.environment_id = r.Text(1);
    i.release_id = r.Text(2);
    i.release_version = r.Text(3);
    i.deployment_id = r.Text(4);
    i.task_id = r.Text(5);
    i.channel_id = r.Text(6);
    i.created = r.GetInt(7);
    i.queue_time = r.GetInt(8);
    i.start_time = r.GetOptionalInt(9);
    i.completed_time = r.GetOptionalInt(10);
    i.state = r.Text(11);
    i.error_message = r.Text(12);
    i.has_warnings_or_errors = r.GetBool(13);
    i.has_pending_interruptions = r.GetBool(14);
    item(i);
  });
}

Result<void> ForEachDashboardCell(
    db::Database& db, const std::string& space_id,
    const std::function<void(std::string_view project_id, std::string_view environment_id)>& cell) {
  return db.ForEachRow(
      "SELECT project_id, environment_id FROM dashboard_latest WHERE space_id = $1", {space_id},
      [&](const db::RowView& r) { cell(r.Text(0), r.Text(1)); });
}

Result<DashboardVersions> ReadDashboardVersions(db::Database& db, const std::string& space_id) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT version, layout_version FROM dashboard_changes WHERE "
                                 "space_id = $1",
                                 {space_id}));
  if (rs.empty()) return DashboardVersions{};
  return DashboardVersions{rs.front().GetInt(0), rs.front().GetInt(1)};
}

Result<int64_t> DashboardVersion(db::Database& db, const std::string& space_id) {
  CUTTLE_TRY(auto rs,
             db.Execute("SELECT version FROM dashboard_changes WHERE space_id = $1", {space_id}));
  return rs.empty() ? 0 : rs.front().GetInt(0);
}

Result<void> SetDashboardReleaseVersion(db::Transaction& tx, const std::string& release_id,
                                        const std::string& version) {
  CUTTLE_TRY_VOID(
      tx.Execute("UPDATE dashboard_latest SET release_version = $2 WHERE release_id "
                 "= $1",
                 {release_id, version}));
  // The release may show only among PreviousItems, which dashboard_latest's triggers do not see:
  // raise the space's counter here so that no cached dashboard keeps the old version.
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO dashboard_changes (space_id, version) SELECT space_id, 1 FROM releases WHERE "
      "id = $1 ON CONFLICT (space_id) DO UPDATE SET version = dashboard_changes.version + 1",
      {release_id}));
  return {};
}

Result<std::vector<DashboardItem>> DashboardPreviousItems(db::Database& db,
                                                          const std::string& space_id) {
  return Items(db,
               std::string("SELECT ") + kItemColumns +
                   " FROM dashboard_latest l JOIN deployments d ON d.id = (SELECT p.id FROM "
                   "deployments p JOIN server_tasks pt ON pt.id = p.task_id WHERE p.project_id "
                   "= l.project_id AND p.environment_id = l.environment_id AND p.seq < "
                   "l.deployment_seq AND pt.state = 'Success' ORDER BY p.seq DESC LIMIT 1) "
                   "JOIN releases r ON r.id = d.release_id JOIN server_tasks t ON t.id = "
                   "d.task_id WHERE l.space_id = $1",
               {space_id});
}

Result<std::vector<DashboardItem>> ReleaseDeploymentItems(db::Database& db,
                                                          const std::string& release_id) {
  return Items(db,
               std::string("SELECT ") + kItemColumns +
                   " FROM deployments d JOIN releases r ON r.id = d.release_id JOIN "
                   "server_tasks t ON t.id = d.task_id WHERE d.release_id = $1 ORDER BY d.seq "
                   "DESC",
               {release_id});
}

}  // namespace cuttle::repo
