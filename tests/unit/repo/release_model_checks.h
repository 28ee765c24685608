// Checks of the release model's repository (releases, runbooks and their snapshots) shared by the
// SQLite test (release_model_test.cc) and the PostgreSQL one (release_model_pgtest.cc): edits are
// optimistic saves, unnamed runbook snapshots get distinct names however many are made at once.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db/database.h"
#include "repo/processes.h"
#include "repo/releases.h"
#include "repo/runbooks.h"
#include "repo/spaces.h"
#include "repo/variable_sets.h"

namespace cuttle::repo {

inline RunbookRow NewRunbook(db::Database& db, const std::string& name) {
  RunbookRow rb;
  rb.space_id = "Spaces-1";
  rb.project_id = "Projects-1";
  rb.name = name;
  rb.process_id = "RunbookProcess-" + name;
  auto r = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(rb, InsertRunbook(tx, rb));
    return {};
  });
  EXPECT_TRUE(r) << r.error().message();
  return rb;
}

inline ReleaseRow NewRelease(db::Database& db, const std::string& version) {
  ReleaseRow r;
  r.space_id = "Spaces-1";
  r.project_id = "Projects-1";
  r.channel_id = "Channels-1";
  r.version = version;
  auto ok = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(r, InsertRelease(tx, r));
    return {};
  });
  EXPECT_TRUE(ok) << ok.error().message();
  return r;
}

// Two edits read at the same revision: the first is written, the second changes nothing. A
// publish in between (which writes only the published snapshot) refuses an edit read before it,
// so the edit cannot undo the publish.
inline void ExpectStaleRunbookEditIsRefused(db::Database& db) {
  const RunbookRow read = NewRunbook(db, "Backup");
  EXPECT_EQ(read.revision, 0);
  std::optional<int64_t> first, stale;
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    RunbookRow a = read;
    a.json["Description"] = "first";
    CUTTLE_TRY(first, UpdateRunbook(tx, a, read.revision));
    RunbookRow b = read;
    b.name = "Backup 2";
    b.json["Description"] = "second";
    CUTTLE_TRY(stale, UpdateRunbook(tx, b, read.revision));
    return {};
  }));
  EXPECT_EQ(first, 1);
  EXPECT_FALSE(stale.has_value());
  auto stored = FindRunbook(db, "Spaces-1", read.id).value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->name, "Backup");
  EXPECT_EQ(stored->json.value("Description", ""), "first");
  EXPECT_EQ(stored->revision, 1);

  bool published = false;
  std::optional<int64_t> after_publish;
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(published, PublishRunbookSnapshot(tx, read.id, "RunbookSnapshots-9"));
    RunbookRow c = *stored;  // read before the publish
    c.json["Description"] = "third";
    CUTTLE_TRY(after_publish, UpdateRunbook(tx, c, stored->revision));
    return {};
  }));
  EXPECT_TRUE(published);
  EXPECT_FALSE(after_publish.has_value());
  auto now = FindRunbook(db, "Spaces-1", read.id).value();
  ASSERT_TRUE(now);
  EXPECT_EQ(now->published_snapshot_id, "RunbookSnapshots-9");
  EXPECT_EQ(now->json.value("Description", ""), "first") << "the publish wrote nothing else";
  EXPECT_EQ(now->revision, 2);
}

inline void ExpectStaleReleaseEditIsRefused(db::Database& db) {
  const ReleaseRow read = NewRelease(db, "1.0.0");
  std::optional<int64_t> first, stale;
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    ReleaseRow a = read;
    a.json["ReleaseNotes"] = "first";
    CUTTLE_TRY(first, UpdateRelease(tx, a, read.revision, read.version));
    ReleaseRow b = read;
    b.version = "1.0.1";
    b.json["ReleaseNotes"] = "second";
    CUTTLE_TRY(stale, UpdateRelease(tx, b, read.revision, read.version));
    return {};
  }));
  EXPECT_EQ(first, read.revision + 1);
  EXPECT_FALSE(stale.has_value());
  auto stored = FindRelease(db, "Spaces-1", read.id).value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->version, "1.0.0");
  EXPECT_EQ(stored->json.value("ReleaseNotes", ""), "first");
  EXPECT_EQ(stored->revision, read.revision + 1);
  // Another release's version is still refused by name.
  NewRelease(db, "2.0.0");
  auto dup = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    ReleaseRow c = *stored;
    c.version = "2.0.0";
    CUTTLE_TRY(auto v, UpdateRelease(tx, c, stored->revision, stored->version));
    (void)v;
    return {};
  });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
}

// `writers` unnamed snapshots of one runbook made at once, after one named "Snapshot 2" by hand:
// every one is created, each with its own name, the hand-made name skipped.
inline void ExpectConcurrentUnnamedSnapshotsGetDistinctNames(db::Database& db, int writers) {
  const RunbookRow rb = NewRunbook(db, "Deploy DB");
  auto insert = [&](const std::string& name) -> Result<RunbookSnapshotRow> {
    RunbookSnapshotRow made;
    CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
      RunbookSnapshotRow s;
      s.space_id = rb.space_id;
      s.project_id = rb.project_id;
      s.runbook_id = rb.id;
      s.name = name;
      CUTTLE_TRY(made, InsertRunbookSnapshot(tx, s));
      return {};
    }));
    return made;
  };
  ASSERT_TRUE(insert("Snapshot 2"));
  std::vector<std::string> names(writers);
  std::vector<std::string> errors(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto made = insert("");
      if (made) {
        names[w] = made->name;
      } else {
        errors[w] = made.error().message();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct;
  for (int w = 0; w < writers; ++w) {
    EXPECT_EQ(errors[w], "") << "writer " << w;
    distinct.insert(names[w]);
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(writers));
  EXPECT_FALSE(distinct.count("Snapshot 2")) << "the hand-made name is skipped";
  std::set<std::string> expected;
  for (int n = 1; n <= writers + 1; ++n) {
    if (n != 2) expected.insert("Snapshot " + std::to_string(n));
  }
  EXPECT_EQ(distinct, expected);
}

inline int64_t CountRows(db::Database& db, const std::string& sql, const db::Params& params) {
  auto rs = db.Execute(sql, params);
  EXPECT_TRUE(rs) << sql << ": " << rs.error().message();
  return rs ? rs->front().GetInt(0) : -1;
}

// Deleting a release removes its frozen process and variable sets; deleting a runbook its
// processes and frozen variable sets; deleting a space its library variable sets and their
// variables. Nothing of another owner goes.
inline void ExpectDeletesLeaveNoFrozenRows(db::Database& db) {
  using nlohmann::json;
  auto run = [&](auto&& body) {
    auto r = db.InTransaction(body);
    ASSERT_TRUE(r) << r.error().message();
  };
  run([&](db::Transaction& tx) -> Result<void> {
    return InsertVariableSet(tx, {"variableset-Projects-1", "Spaces-1", "Projects-1", 1,
                                  json::array({{{"Name", "Live"}}})});
  });
  ReleaseRow release = NewRelease(db, "1.0.0");
  const RunbookRow rb = NewRunbook(db, "Cleanup");
  run([&](db::Transaction& tx) -> Result<void> {
    // The release's frozen process (owned by the project) and variables (owned by the release).
    CUTTLE_TRY_VOID(
        InsertProcess(tx, {"deploymentprocess-Projects-1-s-1", "Spaces-1", "Projects-1",
                           kDeploymentProcessSnapshot, 0, std::nullopt, json::array()}));
    CUTTLE_TRY_VOID(InsertVariableSet(
        tx, {"variableset-Projects-1-s-3", "Spaces-1", release.id, 1, json::array()}));
    release.json["ProjectDeploymentProcessSnapshotId"] = "deploymentprocess-Projects-1-s-1";
    release.json["ProjectVariableSetSnapshotId"] = "variableset-Projects-1-s-3";
    CUTTLE_TRY(auto revision, UpdateRelease(tx, release, release.revision, release.version));
    EXPECT_TRUE(revision);
    // The runbook's live process, a snapshot's frozen process and variables, and the snapshot.
    CUTTLE_TRY_VOID(InsertProcess(
        tx, {rb.process_id, "Spaces-1", rb.id, kRunbookProcess, 0, std::nullopt, json::array()}));
    CUTTLE_TRY_VOID(InsertProcess(tx, {rb.process_id + "-s-2", "Spaces-1", rb.id, "RunbookSnapshot",
                                       0, std::nullopt, json::array()}));
    CUTTLE_TRY_VOID(
        InsertVariableSet(tx, {"variableset-Projects-1-s-4", "Spaces-1", rb.id, 1, json::array()}));
    RunbookSnapshotRow snap;
    snap.space_id = "Spaces-1";
    snap.project_id = "Projects-1";
    snap.runbook_id = rb.id;
    CUTTLE_TRY_VOID(InsertRunbookSnapshot(tx, snap));
    return {};
  });
  ASSERT_EQ(CountRows(db, "SELECT COUNT(*) FROM variable_sets WHERE owner_id = $1", {release.id}),
            1);
  ASSERT_EQ(CountRows(db, "SELECT COUNT(*) FROM variable_sets WHERE owner_id = $1", {rb.id}), 1);

  run([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto deleted, DeleteRelease(tx, release.id));
    EXPECT_TRUE(deleted);
    return DeleteRunbook(tx, rb.id);
  });
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM variable_sets WHERE owner_id = $1", {release.id}),
            0);
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM processes WHERE id = $1",
                      {std::string("deploymentprocess-Projects-1-s-1")}),
            0);
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM variable_sets WHERE owner_id = $1", {rb.id}), 0);
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM processes WHERE owner_id = $1", {rb.id}), 0);
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM runbook_snapshots WHERE runbook_id = $1", {rb.id}),
            0);
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM variable_sets WHERE id = $1",
                      {std::string("variableset-Projects-1")}),
            1)
      << "the project's own set stays";

  SpaceRow space;
  space.name = "Doomed";
  space.slug = "doomed";
  space.task_queue_stopped = true;
  run([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(space, InsertSpace(tx, space));
    CUTTLE_TRY_VOID(InsertLibraryVariableSet(
        tx, {"LibraryVariableSets-7", space.id, "Shared", "variableset-LibraryVariableSets-7",
             "Variables", json::object()}));
    return InsertVariableSet(tx, {"variableset-LibraryVariableSets-7", space.id,
                                  "LibraryVariableSets-7", 0, json::array()});
  });
  run([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto deleted, DeleteSpace(tx, space.id));
    EXPECT_TRUE(deleted);
    return {};
  });
  EXPECT_EQ(
      CountRows(db, "SELECT COUNT(*) FROM library_variable_sets WHERE space_id = $1", {space.id}),
      0);
  EXPECT_EQ(CountRows(db, "SELECT COUNT(*) FROM variable_sets WHERE owner_id = $1",
                      {std::string("LibraryVariableSets-7")}),
            0);
}

// FreezeVariableSets copies each set (variables and version) under a new id owned by the owner,
// a missing set as an empty one; a later save of the live set does not reach the copy.
inline void ExpectFreezeCopiesEverySet(db::Database& db) {
  using nlohmann::json;
  const json live = json::array({{{"Name", "Conn"}, {"Value", "a"}}});
  const json library = json::array({{{"Name", "Shared"}, {"Value", "s"}}});
  std::vector<std::string> ids;
  auto r = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(
        InsertVariableSet(tx, {"variableset-Projects-1", "Spaces-1", "Projects-1", 3, live}));
    CUTTLE_TRY_VOID(InsertVariableSet(tx, {"variableset-LibraryVariableSets-1", "Spaces-1",
                                           "LibraryVariableSets-1", 5, library}));
    CUTTLE_TRY(ids,
               FreezeVariableSets(tx, "Spaces-1", "Runbooks-4",
                                  {"variableset-Projects-1", "variableset-LibraryVariableSets-1",
                                   "variableset-LibraryVariableSets-2"}));
    VariableSetRow edited{"variableset-Projects-1", "Spaces-1", "Projects-1", 3,
                          json::array({{{"Name", "Conn"}, {"Value", "b"}}})};
    CUTTLE_TRY(auto v, UpdateVariableSet(tx, edited, 3));
    EXPECT_EQ(v, 4);
    return {};
  });
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 3u);
  const std::vector<std::pair<int64_t, json>> expected = {
      {3, live}, {5, library}, {0, json::array()}};
  for (size_t i = 0; i < ids.size(); ++i) {
    auto frozen = FindVariableSet(db, "Spaces-1", ids[i]).value();
    ASSERT_TRUE(frozen) << ids[i];
    EXPECT_EQ(frozen->owner_id, "Runbooks-4");
    EXPECT_EQ(frozen->version, expected[i].first) << ids[i];
    EXPECT_EQ(frozen->variables, expected[i].second) << ids[i];
  }
  EXPECT_EQ(ids[1].rfind("variableset-LibraryVariableSets-1-s-", 0), 0u) << ids[1];
}

// Lists of the model's resources sort by bytes on both backends. On PostgreSQL the test
// database's default collation is C, so the columns are first given a locale's collation (as a
// server initialised with a locale would have), under which "Ärger" sorts beside "alpha".
inline void ExpectListsSortByBytes(db::Database& db) {
  if (db.dialect() == db::Dialect::kPostgres) {
    for (const char* sql :
         {"ALTER TABLE runbooks ALTER COLUMN name_key TYPE TEXT COLLATE \"und-x-icu\"",
          "ALTER TABLE library_variable_sets ALTER COLUMN name TYPE TEXT COLLATE \"und-x-icu\""}) {
      auto r = db.Execute(sql);
      ASSERT_TRUE(r) << sql << ": " << r.error().message();
    }
  }
  const std::vector<std::string> names = {"beta", "Zulu", "_setup", "\xC3\x84rger", "Alpha"};
  const std::vector<std::string> sorted = {"_setup", "Alpha", "beta", "Zulu", "\xC3\x84rger"};
  int n = 0;
  for (const auto& name : names) {
    NewRunbook(db, name);
    auto r = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
      const std::string id = "LibraryVariableSets-" + std::to_string(++n);
      return InsertLibraryVariableSet(
          tx, {id, "Spaces-1", name, "variableset-" + id, "Variables", nlohmann::json::object()});
    });
    ASSERT_TRUE(r) << r.error().message();
  }
  auto runbooks = ListRunbooks(db, {"Spaces-1", std::nullopt}, PageQuery{});
  ASSERT_TRUE(runbooks) << runbooks.error().message();
  std::vector<std::string> got;
  for (const auto& rb : runbooks->items) got.push_back(rb.name);
  EXPECT_EQ(got, sorted);
  auto sets = ListLibraryVariableSets(db, {"Spaces-1", std::nullopt}, PageQuery{});
  ASSERT_TRUE(sets) << sets.error().message();
  got.clear();
  for (const auto& l : sets->items) got.push_back(l.name);
  EXPECT_EQ(got, sorted);
}

// A runbook's run that is still queued or executing reads the snapshot's frozen variables, so the
// delete (api/runbooks.cc) looks for one first and refuses; a finished run does not hold it.
inline void ExpectActiveRunbookRunsAreFound(db::Database& db) {
  const RunbookRow rb = NewRunbook(db, "Active");
  auto active = [&]() {
    std::optional<std::string> task;
    auto r = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
      CUTTLE_TRY(const bool exists, LockRunbook(tx, db.dialect(), rb.id, true));
      EXPECT_TRUE(exists);
      CUTTLE_TRY(task, ActiveRunbookRunTask(tx, rb.id));
      return {};
    });
    EXPECT_TRUE(r) << r.error().message();
    return task;
  };
  EXPECT_EQ(active(), std::nullopt) << "no run yet";
  auto r = db.Execute(
      "INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) VALUES "
      "('ServerTasks-71', 71, 'Spaces-1', 'RunbookRun', 'Queued', 1), ('ServerTasks-72', 72, "
      "'Spaces-1', 'RunbookRun', 'Success', 1)");
  ASSERT_TRUE(r) << r.error().message();
  for (const char* task : {"ServerTasks-72", "ServerTasks-71"}) {
    auto ok = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
      CUTTLE_TRY(const int64_t seq, NextRunbookRunSeq(tx));
      RunbookRunRow run;
      run.seq = seq;
      run.space_id = "Spaces-1";
      run.project_id = "Projects-1";
      run.runbook_id = rb.id;
      run.snapshot_id = "RunbookSnapshots-1";
      run.environment_id = "Environments-1";
      run.task_id = task;
      CUTTLE_TRY_VOID(InsertRunbookRun(tx, run));
      return {};
    });
    ASSERT_TRUE(ok) << ok.error().message();
  }
  EXPECT_EQ(active(), std::optional<std::string>("ServerTasks-71")) << "the queued run";
  ASSERT_TRUE(
      db.Execute("UPDATE server_tasks SET state = 'Executing' WHERE id = 'ServerTasks-71'"));
  EXPECT_EQ(active(), std::optional<std::string>("ServerTasks-71")) << "the executing run";
  ASSERT_TRUE(db.Execute("UPDATE server_tasks SET state = 'Failed' WHERE id = 'ServerTasks-71'"));
  EXPECT_EQ(active(), std::nullopt) << "only finished runs";
}

// A transaction that records the statements it runs.
class RecordingTransaction final : public db::Transaction {
 public:
  explicit RecordingTransaction(db::Transaction& inner) : inner_(inner) {}
  Result<db::ResultSet> Execute(std::string_view sql, const db::Params& params) override {
    statements.emplace_back(sql);
    return inner_.Execute(sql, params);
  }
  Result<void> Commit() override { return inner_.Commit(); }
  void Rollback() override { inner_.Rollback(); }
  std::vector<std::string> statements;

 private:
  db::Transaction& inner_;
};

// A release saved with its version unchanged cannot collide with another release: no duplicate
// query; a changed version (case aside) is still checked.
inline void ExpectUnchangedReleaseVersionSkipsTheDuplicateCheck(db::Database& db) {
  ReleaseRow read = NewRelease(db, "3.0.0-Beta");
  auto selects_of = [&](ReleaseRow row) {
    size_t selects = 0;
    auto r = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
      RecordingTransaction rec(tx);
      CUTTLE_TRY(auto revision, UpdateRelease(rec, row, read.revision, read.version));
      EXPECT_TRUE(revision);
      if (revision) read.revision = *revision;
      for (const auto& sql : rec.statements) selects += sql.starts_with("SELECT") ? 1 : 0;
      return {};
    });
    EXPECT_TRUE(r) << r.error().message();
    read.version = row.version;
    return selects;
  };
  ReleaseRow notes = read;
  notes.json["ReleaseNotes"] = "notes only";
  EXPECT_EQ(selects_of(notes), 0u) << "the version did not change";
  ReleaseRow recased = read;
  recased.version = "3.0.0-beta";
  EXPECT_EQ(selects_of(recased), 0u) << "versions compare ignoring case";
  ReleaseRow renamed = read;
  renamed.version = "3.0.1";
  EXPECT_EQ(selects_of(renamed), 1u) << "a new version is checked";
}

}  // namespace cuttle::repo
