// The infrastructure aggregates on SQLite: spaces and their defaults, environments, lifecycles,
// project groups, deployment targets, and the event filters. infrastructure_pgtest.cc runs the
// races between references and deletes on PostgreSQL.
#include <gtest/gtest.h>

#include "core/strings.h"
#include "db/migrations.h"
#include "repo/environments.h"
#include "repo/events.h"
#include "repo/lifecycles.h"
#include "repo/machine_policies.h"
#include "repo/machines.h"
#include "repo/project_groups.h"
#include "repo/repo.h"
#include "repo/spaces.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

class InfrastructureTest : public ::testing::Test {
 protected:
  InfrastructureTest() : db_(testing::NewSqlite(dir_)) {
    auto boot = Bootstrap(*db_, "hash");
    EXPECT_TRUE(boot) << boot.error().message();
  }

  template <class F>
  auto InTx(F f) -> decltype(f(std::declval<db::Transaction&>())) {
    decltype(f(std::declval<db::Transaction&>())) out = Fail(Error::Internal("not run"));
    auto done = db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
      out = f(tx);
      if (!out) return Fail(out.error());
      return {};
    });
    return out;
  }

  EnvironmentRow NewEnv(const std::string& space, const std::string& name) {
    EnvironmentRow e;
    e.space_id = space;
    e.name = name;
    e.sort_order = -1;
    auto saved = InTx([&](db::Transaction& tx) { return InsertEnvironment(tx, e); });
    EXPECT_TRUE(saved) << saved.error().message();
    return saved ? *saved : e;
  }

  std::string NewSpace(const std::string& name) {
    SpaceRow s;
    s.name = name;
    s.slug = name;
    auto saved = InTx([&](db::Transaction& tx) { return InsertSpace(tx, s); });
    EXPECT_TRUE(saved) << saved.error().message();
    return saved ? saved->id : "";
  }

  MachineRow Machine(const std::string& name, std::vector<std::string> envs,
                     std::vector<std::string> roles) {
    MachineRow m;
    m.space_id = "Spaces-1";
    m.name = name;
    m.machine_policy_id = "MachinePolicies-1";
    m.communication_style = "None";
    m.environment_ids = std::move(envs);
    m.roles = std::move(roles);
    return m;
  }

  int64_t Count(const std::string& sql) { return db_->Execute(sql)->front().GetInt(0); }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
};

TEST_F(InfrastructureTest, TheDefaultSpaceStartsWithItsDefaults) {
  auto lifecycles = ListAllLifecycles(*db_, "Spaces-1", {});
  ASSERT_TRUE(lifecycles);
  ASSERT_EQ(lifecycles->size(), 1u);
  EXPECT_EQ(lifecycles->front().id, "Lifecycles-1");
  EXPECT_EQ(lifecycles->front().name, "Default Lifecycle");
  auto groups = ListAllProjectGroups(*db_, "Spaces-1", {});
  ASSERT_TRUE(groups && groups->size() == 1u);
  EXPECT_EQ(groups->front().id, "ProjectGroups-1");
  EXPECT_EQ(groups->front().name, "Default Project Group");
  auto policies = ListAllMachinePolicies(*db_, "Spaces-1", {});
  ASSERT_TRUE(policies && policies->size() == 1u);
  EXPECT_EQ(policies->front().id, "MachinePolicies-1");
  EXPECT_TRUE(policies->front().is_default);
}

TEST_F(InfrastructureTest, BootstrapAgainDoesNotBringBackADeletedDefault) {
  ASSERT_TRUE(
      InTx([&](db::Transaction& tx) { return DeleteLifecycle(tx, "Spaces-1", "Lifecycles-1"); }));
  ASSERT_TRUE(Bootstrap(*db_, "hash"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM lifecycles"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM project_groups"), 1);
}

// A database created before migration 0006 already has Spaces-1: the migration gives it the
// defaults, with the ids Bootstrap gives a new database, and the sequences continue after them.
TEST_F(InfrastructureTest, TheMigrationSeedsAnExistingDefaultSpace) {
  // The schema as it was before 0006, with the Default space the bootstrap of that time wrote.
  testing::TempDir old_dir;
  db_ = testing::NewSqliteUnmigrated(old_dir);
  auto before = db::MigrateTo(*db_, 5);
  ASSERT_TRUE(before) << before.error().message();
  ASSERT_TRUE(
      db_->Execute("INSERT INTO spaces (id, name, slug, description, is_default) VALUES "
                   "('Spaces-1', 'Default', 'default', 'The default space', 1)"));
  ASSERT_TRUE(db_->Execute("INSERT INTO id_sequences (name, value) VALUES ('Spaces', 1)"));
  auto migrated = db::Migrate(*db_);
  ASSERT_TRUE(migrated) << migrated.error().message();
  auto lifecycle = FindLifecycle(*db_, "Spaces-1", "Lifecycles-1");
  ASSERT_TRUE(lifecycle && *lifecycle);
  EXPECT_EQ((*lifecycle)->name, "Default Lifecycle");
  auto group = FindProjectGroup(*db_, "Spaces-1", "ProjectGroups-1");
  ASSERT_TRUE(group && *group);
  auto policy = FindMachinePolicy(*db_, "Spaces-1", "MachinePolicies-1");
  ASSERT_TRUE(policy && *policy && (*policy)->is_default);
  const std::string space = NewSpace("Second");
  auto second = ListAllLifecycles(*db_, space, {});
  ASSERT_TRUE(second && second->size() == 1u);
  EXPECT_EQ(second->front().id, "Lifecycles-2");
}

TEST_F(InfrastructureTest, EnvironmentsAreOrderedAndNamedOncePerSpace) {
  auto dev = NewEnv("Spaces-1", "Dev");
  auto test = NewEnv("Spaces-1", "Test");
  EXPECT_EQ(dev.id, "Environments-1");
  EXPECT_EQ(dev.sort_order, 0);
  EXPECT_EQ(test.sort_order, 1);
  EnvironmentRow dup;
  dup.space_id = "Spaces-1";
  dup.name = "DEV";
  auto refused = InTx([&](db::Transaction& tx) { return InsertEnvironment(tx, dup); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(refused.error().message(),
            "An environment with the name 'DEV' already exists in this space.");
  // Another space may use the name.
  const std::string other = NewSpace("Other");
  EXPECT_EQ(NewEnv(other, "Dev").space_id, other);

  auto byName = ListEnvironments(*db_, {"Spaces-1", "dev"}, {});
  ASSERT_TRUE(byName);
  ASSERT_EQ(byName->total, 1);
  EXPECT_EQ(byName->items.front().id, dev.id);
  // Invisible from another space.
  auto cross = FindEnvironment(*db_, other, dev.id);
  ASSERT_TRUE(cross);
  EXPECT_FALSE(*cross);
}

TEST_F(InfrastructureTest, ReorderingPutsTheNamedFirstAndRefusesUnknownIds) {
  auto a = NewEnv("Spaces-1", "A");
  auto b = NewEnv("Spaces-1", "B");
  auto c = NewEnv("Spaces-1", "C");
  ASSERT_TRUE(InTx([&](db::Transaction& tx) -> Result<bool> {
    CUTTLE_TRY_VOID(ReorderEnvironments(tx, "Spaces-1", {c.id, a.id}));
    return true;
  }));
  auto all = ListAllEnvironments(*db_, {"Spaces-1", std::nullopt}, {});
  ASSERT_TRUE(all && all->size() == 3u);
  EXPECT_EQ((*all)[0].id, c.id);
  EXPECT_EQ((*all)[1].id, a.id);
  EXPECT_EQ((*all)[2].id, b.id);
  auto refused = InTx([&](db::Transaction& tx) -> Result<bool> {
    CUTTLE_TRY_VOID(ReorderEnvironments(tx, "Spaces-1", {b.id, "Environments-99"}));
    return true;
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_EQ(refused.error().details().size(), 1u);
  all = ListAllEnvironments(*db_, {"Spaces-1", std::nullopt}, {});
  EXPECT_EQ((*all)[0].id, c.id);  // unchanged
}

TEST_F(InfrastructureTest, AnEnvironmentALifecycleUsesCannotBeDeleted) {
  auto dev = NewEnv("Spaces-1", "Dev");
  LifecycleRow l;
  l.space_id = "Spaces-1";
  l.name = "Main";
  auto saved = InTx([&](db::Transaction& tx) { return InsertLifecycle(tx, l, {dev.id}); });
  ASSERT_TRUE(saved) << saved.error().message();
  auto refused =
      InTx([&](db::Transaction& tx) { return DeleteEnvironment(tx, "Spaces-1", dev.id); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kConflict);
  EXPECT_NE(refused.error().message().find("'Main'"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM environments"), 1);
  // Once the lifecycle no longer names it, it goes.
  ASSERT_TRUE(InTx([&](db::Transaction& tx) { return UpdateLifecycle(tx, *saved, {}); }));
  auto deleted =
      InTx([&](db::Transaction& tx) { return DeleteEnvironment(tx, "Spaces-1", dev.id); });
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(*deleted);
}

TEST_F(InfrastructureTest, ALifecycleCannotNameAnotherSpacesEnvironment) {
  const std::string other = NewSpace("Other");
  auto foreign = NewEnv(other, "Prod");
  auto local = NewEnv("Spaces-1", "Dev");
  LifecycleRow l;
  l.space_id = "Spaces-1";
  l.name = "Main";
  auto refused = InTx([&](db::Transaction& tx) {
    return InsertLifecycle(tx, l, {local.id, foreign.id});
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_EQ(refused.error().details().size(), 1u);
  EXPECT_NE(refused.error().details()[0].find(foreign.id), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM lifecycles WHERE name = 'Main'"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM lifecycle_environments"), 0);
}

TEST_F(InfrastructureTest, MachinesAreFilteredInSql) {
  auto dev = NewEnv("Spaces-1", "Dev");
  auto prod = NewEnv("Spaces-1", "Prod");
  for (auto m : {Machine("web-1", {dev.id}, {"web"}), Machine("web-2", {prod.id}, {"web", "API"}),
                 Machine("db-1", {dev.id, prod.id}, {"db"})}) {
    if (m.name == "db-1") m.is_disabled = true;
    auto saved = InTx([&](db::Transaction& tx) { return InsertMachine(tx, m); });
    ASSERT_TRUE(saved) << saved.error().message();
  }
  auto names = [&](MachineFilter f, PageQuery q = {}) {
    f.space_id = "Spaces-1";
    std::vector<std::string> out;
    auto page = ListMachines(*db_, f, q);
    EXPECT_TRUE(page);
    for (const auto& m : page->items) out.push_back(m.name);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names({}), (V{"db-1", "web-1", "web-2"}));
  MachineFilter f;
  f.environment_ids = V{dev.id};
  EXPECT_EQ(names(f), (V{"db-1", "web-1"}));
  f = {};
  f.roles = V{"api", "db"};
  EXPECT_EQ(names(f), (V{"db-1", "web-2"}));
  f = {};
  f.is_disabled = false;
  f.roles = V{"web"};
  EXPECT_EQ(names(f), (V{"web-1", "web-2"}));
  f = {};
  f.health_statuses = V{"Healthy"};
  EXPECT_EQ(names(f), V{});
  f = {};
  f.name = "WEB-2";
  EXPECT_EQ(names(f), V{"web-2"});
  PageQuery q;
  q.partial_name = "web";
  q.skip = 1;
  q.take = 1;
  auto page = ListMachines(*db_, {.space_id = "Spaces-1"}, q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].roles, (V{"API", "web"}));
  // A machine's environments must be the space's, as must its policy.
  const std::string other = NewSpace("Other");
  auto foreign = NewEnv(other, "Elsewhere");
  auto m = Machine("bad", {foreign.id}, {"web"});
  m.machine_policy_id = "MachinePolicies-2";
  auto refused = InTx([&](db::Transaction& tx) { return InsertMachine(tx, m); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().details().size(), 2u);
  // And an environment with a machine in it cannot be deleted.
  auto in_use =
      InTx([&](db::Transaction& tx) { return DeleteEnvironment(tx, "Spaces-1", dev.id); });
  ASSERT_FALSE(in_use);
  EXPECT_NE(in_use.error().message().find("'db-1'"), std::string::npos);
}

TEST_F(InfrastructureTest, ASpaceIsDeletedOnlyWhenStoppedIdleAndNotTheDefault) {
  const std::string space = NewSpace("Doomed");
  NewEnv(space, "Dev");
  auto del = [&](const std::string& id) {
    return InTx([&](db::Transaction& tx) { return DeleteSpace(tx, id); });
  };
  auto refused = del("Spaces-1");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("default space"), std::string::npos);
  refused = del(space);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("task queue"), std::string::npos);
  ASSERT_TRUE(
      db_->Execute("UPDATE spaces SET task_queue_stopped = $1 WHERE id = $2", {true, space}));
  ASSERT_TRUE(
      db_->Execute("INSERT INTO server_tasks (id, seq, space_id, name, state, queue_time) "
                   "VALUES ('ServerTasks-1', 1, $1, 'Deploy', 'Queued', 0)",
                   {space}));
  refused = del(space);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("1 queued or running task"), std::string::npos);
  ASSERT_TRUE(db_->Execute("UPDATE server_tasks SET state = 'Success'"));
  auto deleted = del(space);
  ASSERT_TRUE(deleted) << deleted.error().message();
  EXPECT_TRUE(*deleted);
  for (const char* t : {"environments", "lifecycles", "project_groups", "machine_policies"}) {
    EXPECT_EQ(Count(std::string("SELECT COUNT(*) FROM ") + t + " WHERE space_id = '" + space + "'"),
              0)
        << t;
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM lifecycles WHERE space_id = 'Spaces-1'"), 1);
}

TEST_F(InfrastructureTest, SpaceNamesAreUniqueIgnoringCase) {
  NewSpace("Team A");
  SpaceRow s;
  s.name = "team a";
  s.slug = "team-a";
  auto refused = InTx([&](db::Transaction& tx) { return InsertSpace(tx, s); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM spaces"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM lifecycles"), 2);  // none for the refused space
}

TEST_F(InfrastructureTest, EventsRegardingAllOrAnyOfTheirDocuments) {
  auto write = [&](std::vector<std::string> docs) {
    EventRow e;
    e.category = "Modified";
    e.message = "m";
    e.user_id = "Users-1";
    e.username = "admin";
    e.related_document_ids = std::move(docs);
    ASSERT_TRUE(InTx([&](db::Transaction& tx) { return InsertEvent(tx, e); }));
  };
  write({"Projects-1", "Environments-1"});
  write({"Projects-1"});
  write({"Environments-1"});
  auto count = [&](EventFilter f) { return ListEvents(*db_, f, {})->total; };
  EventFilter f;
  f.regarding_all = std::vector<std::string>{"Projects-1", "Environments-1"};
  EXPECT_EQ(count(f), 1);
  f = {};
  f.regarding = std::vector<std::string>{"Projects-1", "Environments-1"};
  EXPECT_EQ(count(f), 3);
  f = {};
  f.regarding_any_groups = {{"Projects-1"}, {"Environments-1", "Environments-2"}};
  EXPECT_EQ(count(f), 1);
  // By the type of a document they are about, as Octopus's documentTypes: the id's prefix.
  write({"Users-2"});
  write({"Users-2", "ApiKeys-3"});
  f = {};
  f.document_types = std::vector<std::string>{"users"};
  EXPECT_EQ(count(f), 2);
  f.document_types = std::vector<std::string>{"Environments", "ApiKeys"};
  EXPECT_EQ(count(f), 3);
  f.document_types = std::vector<std::string>{"User"};  // the whole type, not a prefix of it
  EXPECT_EQ(count(f), 0);
  f.document_types = std::vector<std::string>{};
  EXPECT_EQ(count(f), 0);
}

}  // namespace
}  // namespace cuttle::repo
