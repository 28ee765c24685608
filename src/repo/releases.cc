#include "repo/releases.h"

#include "core/ids.h"
#include "core/json.h"
#include "core/strings.h"
#include "repo/processes.h"
#include "repo/settings.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "id, seq, space_id, project_id, channel_id, version, assembled, revision, json";

ReleaseRow ReadRelease(const db::Row& r) {
  ReleaseRow row;
  row.id = r.GetString("id");
  row.seq = r.GetInt("seq");
  row.space_id = r.GetString("space_id");
  row.project_id = r.GetString("project_id");
  row.channel_id = r.GetString("channel_id");
  row.version = r.GetString("version");
  row.assembled = r.GetInt("assembled");
  row.revision = r.GetInt("revision");
  row.json = core::ParseJson(r.GetString("json")).value_or(nlohmann::json::object());
  return row;
}

std::string VersionKey(const std::string& version) { return core::ToLower(version); }

}  // namespace

Result<Page<ReleaseRow>> ListReleases(db::Database& db, const ReleaseFilter& f,
                                      const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.project_id) w.Add("project_id = {}", *f.project_id);
  if (f.channel_id) w.Add("channel_id = {}", *f.channel_id);
  if (f.version_contains) w.Contains("version", *f.version_contains);
  w.ListFilters(q, "id", "version");
  return SelectPage<ReleaseRow>(db, kColumns, "releases", w, "seq DESC", q, ReadRelease);
}

Result<std::optional<ReleaseRow>> FindRelease(db::Database& db, const std::string& space_id,
                                              const std::string& id) {
  auto seq = core::ParseId("Releases", id);
  if (!seq) return std::optional<ReleaseRow>();
  Where w;
  w.Add("seq = {}", *seq).Add("space_id = {}", space_id);
  CUTTLE_TRY(auto rows, SelectAll<ReleaseRow>(db, kColumns, "releases", w, "seq", ReadRelease));
  if (rows.empty()) return std::optional<ReleaseRow>();
  return std::optional<ReleaseRow>(std::move(rows.front()));
}

Result<std::optional<ReleaseRow>> FindReleaseByVersion(db::Database& db,
                                                       const std::string& project_id,
                                                       const std::string& version) {
  Where w;
  w.Add("project_id = {}", project_id).Add("version_key = {}", VersionKey(version));
  CUTTLE_TRY(auto rows, SelectAll<ReleaseRow>(db, kColumns, "releases", w, "seq", ReadRelease));
  if (rows.empty()) return std::optional<ReleaseRow>();
  return std::optional<ReleaseRow>(std::move(rows.front()));
}

Result<std::optional<std::string>> LatestReleaseVersion(db::Transaction& tx,
                                                        const std::string& project_id,
                                                        const std::optional<std::string>& channel) {
  Where w;
  w.Add("project_id = {}", project_id);
  if (channel) w.Add("channel_id = {}", *channel);
  CUTTLE_TRY(auto rs,
             tx.Execute("SELECT version FROM releases" + w.Sql() + " ORDER BY seq DESC LIMIT 1",
                        w.params()));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<ReleaseRow> InsertRelease(db::Transaction& tx, ReleaseRow row) {
  // Checked first so the usual duplicate is a clear message; the unique index still decides a
  // race between two nodes (AlreadyExists from the INSERT).
  CUTTLE_TRY(auto dup, tx.Execute("SELECT id FROM releases WHERE project_id = $1 AND "
                                  "version_key = $2",
                                  {row.project_id, VersionKey(row.version)}));
  const std::string taken =
      "A release with the version '" + row.version + "' already exists in this project.";
  if (!dup.empty()) return Fail(Error::AlreadyExists(taken));
  CUTTLE_TRY(row.seq, NextSequenceValue(tx, "Releases"));
  row.id = core::MakeId("Releases", row.seq);
  auto rs = tx.Execute(
      "INSERT INTO releases (id, seq, space_id, project_id, channel_id, version, version_key, "
      "assembled, json) VALUES ($1, $2, $3, $4, $5, $6, $7, now_ms(), $8) RETURNING assembled",
      {row.id, row.seq, row.space_id, row.project_id, row.channel_id, row.version,
       VersionKey(row.version), row.json.dump()});
  if (!rs) {
    if (rs.error().code() == ErrorCode::kAlreadyExists) return Fail(Error::AlreadyExists(taken));
    return Fail(rs.error());
  }
  row.assembled = rs->front().GetInt(0);
  return row;
}

Result<std::optional<int64_t>> UpdateRelease(db::Transaction& tx, const ReleaseRow& row,
                                             int64_t expected_revision,
                                             std::string_view stored_version) {
  const std::string taken =
      "A release with the version '" + row.version + "' already exists in this project.";
  // Unchanged, the version is still this release's alone (the update below writes nothing if
  // the release was saved since `stored_version` was read).
  if (VersionKey(row.version) != VersionKey(std::string(stored_version))) {
    CUTTLE_TRY(auto dup, tx.Execute("SELECT id FROM releases WHERE project_id = $1 AND "
                                    "version_key = $2 AND id <> $3",
                                    {row.project_id, VersionKey(row.version), row.id}));
    if (!dup.empty()) return Fail(Error::AlreadyExists(taken));
  }
  auto rs = tx.Execute(
      "UPDATE releases SET version = $3, version_key = $4, json = $5, revision = revision + 1 "
      "WHERE id = $1 AND revision = $2 RETURNING revision",
      {row.id, expected_revision, row.version, VersionKey(row.version), row.json.dump()});
  if (!rs) {
    if (rs.error().code() == ErrorCode::kAlreadyExists) return Fail(Error::AlreadyExists(taken));
    return Fail(rs.error());
  }
  if (rs->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(rs->front().GetInt(0));
}

Result<bool> DeleteRelease(db::Transaction& tx, const std::string& id) {
  // Its frozen variable sets (owned by the release) and its frozen process (owned by the project,
  // named by the release's document) go with it.
  CUTTLE_TRY(auto rs, tx.Execute("SELECT json FROM releases WHERE id = $1", {id}));
  if (rs.empty()) return false;
  const auto doc = core::ParseJson(rs.front().GetString(0)).value_or(nlohmann::json::object());
  const std::string process = core::StringMember(doc, "ProjectDeploymentProcessSnapshotId");
  if (!process.empty()) {
    CUTTLE_TRY_VOID(tx.Execute("DELETE FROM processes WHERE id = $1 AND kind = $2",
                               {process, std::string(kDeploymentProcessSnapshot)}));
  }
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM variable_sets WHERE owner_id = $1", {id}));
  CUTTLE_TRY(auto deleted, tx.Execute("DELETE FROM releases WHERE id = $1", {id}));
  return deleted.affected > 0;
}

Result<std::optional<std::string>> ActiveProjectTask(db::Transaction& tx,
                                                     const std::string& project_id) {
  CUTTLE_TRY(auto rs,
             tx.Execute("SELECT t.id FROM server_tasks t WHERE t.state IN ('Queued', 'Executing', "
                        "'Cancelling') AND (t.id IN (SELECT task_id FROM deployments WHERE "
                        "project_id = $1) OR t.id IN (SELECT task_id FROM runbook_runs WHERE "
                        "project_id = $1)) LIMIT 1",
                        {project_id}));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<void> DeleteProjectReleaseModel(db::Transaction& tx, const std::string& project_id) {
  // Children first: what names a release or runbook goes before it.
  for (const char* sql : {
           "DELETE FROM dashboard_latest WHERE project_id = $1",
           "DELETE FROM deployments WHERE project_id = $1",
           "DELETE FROM variable_sets WHERE owner_id IN (SELECT id FROM releases WHERE project_id "
           "= $1) OR owner_id IN (SELECT id FROM runbooks WHERE project_id = $1)",
           "DELETE FROM releases WHERE project_id = $1",
           "DELETE FROM runbook_runs WHERE project_id = $1",
           "DELETE FROM runbook_snapshots WHERE project_id = $1",
           "DELETE FROM id_sequences WHERE name IN (SELECT 'RunbookSnapshotNames/' || id FROM "
           "runbooks WHERE project_id = $1)",
           "DELETE FROM processes WHERE owner_id IN (SELECT id FROM runbooks WHERE project_id = "
           "$1)",
           "DELETE FROM runbooks WHERE project_id = $1",
       }) {
    CUTTLE_TRY_VOID(tx.Execute(sql, {project_id}));
  }
  return {};
}

Result<int64_t> CountChannelReleases(db::Transaction& tx, const std::string& channel_id) {
  CUTTLE_TRY(auto rs,
             tx.Execute("SELECT COUNT(*) FROM releases WHERE channel_id = $1", {channel_id}));
  return rs.front().GetInt(0);
}

Result<std::string> NextSnapshotId(db::Transaction& tx, const std::string& prefix) {
  CUTTLE_TRY(auto n, NextSequenceValue(tx, "Snapshots"));
  return prefix + "-s-" + std::to_string(n);
}

}  // namespace cuttle::repo
