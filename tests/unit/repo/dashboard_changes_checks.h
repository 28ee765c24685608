// The checks of the dashboard's change counter (migration 0010), shared by the SQLite test
// (dashboard_changes_test.cc) and the PostgreSQL one (dashboard_changes_pgtest.cc): every row the
// dashboard shows raises its space's counter when it is committed, and nothing else does.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/database.h"
#include "repo/deployments.h"
#include "repo/projects.h"

namespace cuttle::repo {

inline void ExpectCounterFollowsDashboardRows(db::Database& db) {
  int64_t seen = DashboardVersion(db, "Spaces-1").value();
  auto run = [&](const std::string& sql) {
    auto r = db.Execute(sql);
    ASSERT_TRUE(r) << sql << ": " << r.error().message();
  };
  auto raised = [&](const std::string& what) {
    const int64_t now = DashboardVersion(db, "Spaces-1").value();
    EXPECT_GT(now, seen) << what;
    seen = now;
  };
  auto unchanged = [&](const std::string& what) {
    EXPECT_EQ(DashboardVersion(db, "Spaces-1").value(), seen) << what;
  };

  run("INSERT INTO environments (id, space_id, name, sort_order) VALUES ('Environments-91', "
      "'Spaces-1', 'Counter Env', 91)");
  raised("an environment created");
  run("INSERT INTO lifecycles (id, space_id, name) VALUES ('Lifecycles-91', 'Spaces-1', 'L91')");
  raised("a lifecycle created");
  run("INSERT INTO project_groups (id, space_id, name) VALUES ('ProjectGroups-91', 'Spaces-1', "
      "'G91')");
  raised("a project group created");
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    ProjectRow p;
    p.id = "Projects-91";
    p.space_id = "Spaces-1";
    p.name = "Counter App";
    p.slug = "counter-app";
    p.project_group_id = "ProjectGroups-91";
    p.lifecycle_id = "Lifecycles-91";
    p.doc = {{"IsDisabled", true}};
    return InsertProject(tx, p);
  }));
  raised("a project created");
  EXPECT_EQ(db.Execute("SELECT is_disabled FROM projects WHERE id = 'Projects-91'")
                .value()
                .front()
                .GetBool(0),
            true)
      << "IsDisabled has its own column";
  run("UPDATE environments SET name = 'Counter Env 2' WHERE id = 'Environments-91'");
  raised("an environment renamed");

  run("INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) VALUES "
      "('ServerTasks-91', 91, 'Spaces-1', 'Deploy', 'Queued', 1), ('ServerTasks-92', 92, "
      "'Spaces-1', 'Noop', 'Queued', 1)");
  unchanged("tasks queued (no cell yet)");
  run("INSERT INTO dashboard_latest (project_id, environment_id, space_id, deployment_seq, "
      "deployment_id, release_id, release_version, channel_id, task_id, created, queue_time, "
      "state) VALUES ('Projects-91', 'Environments-91', 'Spaces-1', 1, 'Deployments-91', "
      "'Releases-91', '1.0.0', 'Channels-91', 'ServerTasks-91', 1, 1, 'Queued')");
  raised("a cell written");
  run("UPDATE server_tasks SET state = 'Executing', start_time = 2 WHERE id = 'ServerTasks-91'");
  raised("a deployment's task started (the cell follows it)");
  run("UPDATE server_tasks SET state = 'Executing', start_time = 2 WHERE id = 'ServerTasks-92'");
  unchanged("a task that is not a deployment");
  run("UPDATE server_tasks SET last_updated_time = 3 WHERE id = 'ServerTasks-91'");
  unchanged("a column the cell does not show");

  // A rolled-back change raises nothing; another space's change raises only that space's.
  auto tx = db.Begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE((*tx)->Execute("UPDATE projects SET name = 'Rolled Back' WHERE id = 'Projects-91'"));
  (*tx)->Rollback();
  unchanged("a rolled-back rename");
  run("INSERT INTO environments (id, space_id, name, sort_order) VALUES ('Environments-92', "
      "'Spaces-2', 'Elsewhere', 1)");
  unchanged("another space's environment");
  EXPECT_GT(DashboardVersion(db, "Spaces-2").value(), 0);

  // A release renamed that no cell shows as current may still be a previous item.
  run("INSERT INTO releases (id, seq, space_id, project_id, channel_id, version, version_key, "
      "assembled, json) VALUES ('Releases-92', 92, 'Spaces-1', 'Projects-91', 'Channels-91', "
      "'0.9.0', '0.9.0', 1, '{}')");
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    return SetDashboardReleaseVersion(tx, "Releases-92", "0.9.1");
  }));
  raised("a release's version edited");

  run("DELETE FROM dashboard_latest WHERE project_id = 'Projects-91'");
  raised("a cell cleared");
  run("DELETE FROM projects WHERE id = 'Projects-91'");
  raised("a project deleted");
}

// The cells a dashboard built at `version` has not seen (migration 0013), as "project/env=state".
inline std::set<std::string> CellsChangedAfter(db::Database& db, int64_t version) {
  std::set<std::string> out;
  auto r = ForEachDashboardItem(db, "Spaces-1", version, [&](const DashboardItemRef& i) {
    out.insert(std::string(i.project_id) + "/" + std::string(i.environment_id) + "=" +
               std::string(i.state));
  });
  EXPECT_TRUE(r) << r.error().message();
  return out;
}

inline void WriteCell(db::Database& db, const std::string& project, const std::string& task) {
  auto r = db.Execute(
      "INSERT INTO dashboard_latest (project_id, environment_id, space_id, deployment_seq, "
      "deployment_id, release_id, release_version, channel_id, task_id, created, queue_time, "
      "state) VALUES ($1, 'Environments-81', 'Spaces-1', 1, 'Deployments-81', 'Releases-81', "
      "'1.0.0', 'Channels-81', $2, 1, 1, 'Queued')",
      {project, task});
  ASSERT_TRUE(r) << r.error().message();
}

// Every cell carries the counter value its commit raised, so a node holding the dashboard at V
// can read only what changed since; anything else raises the layout version as well.
inline void ExpectCellsCarryTheCounterOfTheirCommit(db::Database& db) {
  auto run = [&](const std::string& sql) {
    auto r = db.Execute(sql);
    ASSERT_TRUE(r) << sql << ": " << r.error().message();
  };
  auto versions = [&] { return ReadDashboardVersions(db, "Spaces-1").value(); };
  run("INSERT INTO environments (id, space_id, name, sort_order) VALUES ('Environments-81', "
      "'Spaces-1', 'Cells Env', 81)");
  run("INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) VALUES "
      "('ServerTasks-81', 81, 'Spaces-1', 'Deploy', 'Queued', 1), ('ServerTasks-82', 82, "
      "'Spaces-1', 'Deploy', 'Queued', 1)");
  const auto start = versions();
  EXPECT_EQ(start.layout, start.version) << "an environment written changes the layout";

  WriteCell(db, "Projects-81", "ServerTasks-81");
  WriteCell(db, "Projects-82", "ServerTasks-82");
  const auto written = versions();
  EXPECT_EQ(written.layout, start.layout) << "a cell written leaves the layout";
  EXPECT_EQ(CellsChangedAfter(db, start.version),
            (std::set<std::string>{"Projects-81/Environments-81=Queued",
                                   "Projects-82/Environments-81=Queued"}));
  EXPECT_TRUE(CellsChangedAfter(db, written.version).empty());

  run("UPDATE server_tasks SET state = 'Executing', start_time = 2 WHERE id = 'ServerTasks-81'");
  const auto started = versions();
  EXPECT_GT(started.version, written.version);
  EXPECT_EQ(started.layout, start.layout) << "a cell following its task leaves the layout";
  EXPECT_EQ(CellsChangedAfter(db, written.version),
            (std::set<std::string>{"Projects-81/Environments-81=Executing"}));

  run("INSERT INTO releases (id, seq, space_id, project_id, channel_id, version, version_key, "
      "assembled, json) VALUES ('Releases-81', 81, 'Spaces-1', 'Projects-81', 'Channels-81', "
      "'1.0.0', '1.0.0', 1, '{}')");
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    return SetDashboardReleaseVersion(tx, "Releases-81", "1.0.1");
  }));
  EXPECT_EQ(CellsChangedAfter(db, started.version).size(), 2u) << "both cells show the release";

  const auto before_rename = versions();
  run("UPDATE environments SET name = 'Cells Env 2' WHERE id = 'Environments-81'");
  auto renamed = versions();
  EXPECT_EQ(renamed.layout, renamed.version) << "an environment renamed changes the layout";
  EXPECT_GT(renamed.layout, before_rename.version);
  EXPECT_TRUE(CellsChangedAfter(db, before_rename.version).empty());

  run("DELETE FROM dashboard_latest WHERE project_id = 'Projects-82'");
  auto cleared = versions();
  EXPECT_EQ(cleared.layout, cleared.version) << "a cell deleted changes the layout";
  EXPECT_GT(cleared.layout, renamed.version);
}

// IsDisabled has one reading (repo::ProjectIsDisabled, core::FlagMember's): the column the
// dashboard shows and the check that refuses a deployment agree on every spelling.
inline void ExpectIsDisabledReadOneWay(db::Database& db) {
  const std::vector<std::pair<nlohmann::json, bool>> docs = {
      {{{"IsDisabled", true}}, true},     {{{"IsDisabled", "True"}}, true},
      {{{"isdisabled", true}}, true},     {{{"IsDisabled", " true "}}, true},
      {{{"IsDisabled", false}}, false},   {{{"IsDisabled", "yes"}}, false},
      {{{"IsDisabled", nullptr}}, false}, {nlohmann::json::object(), false},
  };
  int n = 60;
  for (const auto& [doc, disabled] : docs) {
    ProjectRow p;
    p.id = "Projects-" + std::to_string(++n);
    p.space_id = "Spaces-1";
    p.name = "Flag " + std::to_string(n);
    p.slug = "flag-" + std::to_string(n);
    p.project_group_id = "ProjectGroups-1";
    p.lifecycle_id = "Lifecycles-1";
    p.doc = doc;
    EXPECT_EQ(ProjectIsDisabled(p), disabled) << doc.dump();
    ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) { return InsertProject(tx, p); }));
    EXPECT_EQ(db.Execute("SELECT is_disabled FROM projects WHERE id = $1", {p.id})
                  .value()
                  .front()
                  .GetBool(0),
              disabled)
        << doc.dump();
  }
}

}  // namespace cuttle::repo
