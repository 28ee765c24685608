// Races between a reference and a delete on PostgreSQL (READ COMMITTED, many connections): a
// lifecycle or machine saved while its environment is deleted, and two creates of one name. Each
// ends with both committed consistently or one refused, never a dangling reference.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "repo/environments.h"
#include "repo/lifecycles.h"
#include "repo/machines.h"
#include "repo/repo.h"
#include "repo/spaces.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

class InfrastructurePgTest : public ::testing::Test {
 protected:
  InfrastructurePgTest() : url_(testing::NewPostgresDatabase()) {
    a_ = testing::OpenMigrated(url_);
    b_ = testing::OpenMigrated(url_);
    if (a_) {
      auto boot = Bootstrap(*a_, "hash");
      EXPECT_TRUE(boot) << boot.error().message();
    }
  }

  Result<EnvironmentRow> NewEnv(db::Database& db, const std::string& name) {
    EnvironmentRow e;
    e.space_id = "Spaces-1";
    e.name = name;
    e.sort_order = -1;
    Result<EnvironmentRow> out = Fail(Error::Internal("not run"));
    auto done = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
      CUTTLE_TRY(out, InsertEnvironment(tx, e));
      return {};
    });
    if (!done) return Fail(done.error());
    return out;
  }

  int64_t Count(const std::string& sql) { return a_->Execute(sql)->front().GetInt(0); }

  // Runs `a` and `b` on two threads released together.
  static void Race(const std::function<void()>& a, const std::function<void()>& b) {
    std::atomic<bool> go{false};
    std::thread t1([&] {
      while (!go) {
      }
      a();
    });
    std::thread t2([&] {
      while (!go) {
      }
      b();
    });
    go = true;
    t1.join();
    t2.join();
  }

  std::string url_;
  std::unique_ptr<db::Database> a_, b_;
};

TEST_F(InfrastructurePgTest, ALifecycleSavedWhileItsEnvironmentIsDeletedNeverDangles) {
  ASSERT_TRUE(a_ && b_);
  int saved_count = 0, deleted_count = 0;
  for (int round = 0; round < 40; ++round) {
    auto env = NewEnv(*a_, "Env " + std::to_string(round));
    ASSERT_TRUE(env) << env.error().message();
    Result<void> saved, deleted;
    Race(
        [&] {
          saved = a_->InTransaction([&](db::Transaction& tx) -> Result<void> {
            LifecycleRow l;
            l.space_id = "Spaces-1";
            l.name = "L " + std::to_string(round);
            CUTTLE_TRY_VOID(InsertLifecycle(tx, l, {env->id}));
            return {};
          });
        },
        [&] {
          deleted = b_->InTransaction([&](db::Transaction& tx) -> Result<void> {
            CUTTLE_TRY(bool gone, DeleteEnvironment(tx, "Spaces-1", env->id));
            if (!gone) return Fail(Error::NotFound("environment", env->id));
            return {};
          });
        });
    // Exactly one wins: the lifecycle (the delete is refused, naming it) or the delete (the
    // lifecycle is refused: its environment is not in the space).
    ASSERT_NE(saved.has_value(), deleted.has_value())
        << "round " << round << ": " << (saved ? "" : saved.error().message()) << " / "
        << (deleted ? "" : deleted.error().message());
    if (saved) {
      ++saved_count;
      EXPECT_EQ(deleted.error().code(), ErrorCode::kConflict);
    } else {
      ++deleted_count;
      EXPECT_EQ(saved.error().code(), ErrorCode::kInvalidArgument) << saved.error().message();
    }
    EXPECT_EQ(Count("SELECT COUNT(*) FROM lifecycle_environments le WHERE NOT EXISTS (SELECT 1 "
                    "FROM environments e WHERE e.id = le.environment_id)"),
              0)
        << "round " << round;
  }
  std::cout << "lifecycle won " << saved_count << ", delete won " << deleted_count << "\n";
}

TEST_F(InfrastructurePgTest, AMachineSavedWhileItsEnvironmentIsDeletedNeverDangles) {
  ASSERT_TRUE(a_ && b_);
  for (int round = 0; round < 40; ++round) {
    auto env = NewEnv(*a_, "Env " + std::to_string(round));
    ASSERT_TRUE(env) << env.error().message();
    Result<void> saved, deleted;
    Race(
        [&] {
          saved = a_->InTransaction([&](db::Transaction& tx) -> Result<void> {
            MachineRow m;
            m.space_id = "Spaces-1";
            m.name = "M " + std::to_string(round);
            m.machine_policy_id = "MachinePolicies-1";
            m.communication_style = "None";
            m.environment_ids = {env->id};
            m.roles = {"web"};
            CUTTLE_TRY_VOID(InsertMachine(tx, m));
            return {};
          });
        },
        [&] {
          deleted = b_->InTransaction([&](db::Transaction& tx) -> Result<void> {
            CUTTLE_TRY(bool gone, DeleteEnvironment(tx, "Spaces-1", env->id));
            if (!gone) return Fail(Error::NotFound("environment", env->id));
            return {};
          });
        });
    ASSERT_NE(saved.has_value(), deleted.has_value()) << "round " << round;
    EXPECT_EQ(Count("SELECT COUNT(*) FROM machine_environments me WHERE NOT EXISTS (SELECT 1 "
                    "FROM environments e WHERE e.id = me.environment_id)"),
              0)
        << "round " << round;
  }
}

TEST_F(InfrastructurePgTest, AnEnvironmentCreatedWhileItsSpaceIsDeletedIsNotLeftBehind) {
  ASSERT_TRUE(a_ && b_);
  for (int round = 0; round < 30; ++round) {
    SpaceRow space;
    space.name = "S " + std::to_string(round);
    space.slug = "s-" + std::to_string(round);
    space.task_queue_stopped = true;
    Result<SpaceRow> made = Fail(Error::Internal("not run"));
    ASSERT_TRUE(a_->InTransaction([&](db::Transaction& tx) -> Result<void> {
      CUTTLE_TRY(made, InsertSpace(tx, space));
      return {};
    }));
    Result<void> created, deleted;
    Race(
        [&] {
          created = a_->InTransaction([&](db::Transaction& tx) -> Result<void> {
            EnvironmentRow e;
            e.space_id = made->id;
            e.name = "Dev";
            e.sort_order = -1;
            CUTTLE_TRY_VOID(InsertEnvironment(tx, e));
            return {};
          });
        },
        [&] {
          deleted = b_->InTransaction([&](db::Transaction& tx) -> Result<void> {
            CUTTLE_TRY_VOID(DeleteSpace(tx, made->id));
            return {};
          });
        });
    ASSERT_TRUE(deleted) << deleted.error().message();
    if (!created) {
      EXPECT_EQ(created.error().code(), ErrorCode::kNotFound) << round;
    }
    EXPECT_EQ(Count("SELECT COUNT(*) FROM environments e WHERE NOT EXISTS (SELECT 1 FROM spaces "
                    "s WHERE s.id = e.space_id)"),
              0)
        << "round " << round;
  }
}

TEST_F(InfrastructurePgTest, TwoCreatesOfOneNameGiveOneEnvironment) {
  ASSERT_TRUE(a_ && b_);
  for (int round = 0; round < 30; ++round) {
    const std::string name = "Same " + std::to_string(round);
    Result<EnvironmentRow> first = Fail(Error::Internal("")), second = Fail(Error::Internal(""));
    Race([&] { first = NewEnv(*a_, name); },
         [&] { second = NewEnv(*b_, "same " + std::to_string(round)); });  // only the case differs
    ASSERT_NE(first.has_value(), second.has_value()) << "round " << round;
    const auto& loser = first ? second : first;
    EXPECT_EQ(loser.error().code(), ErrorCode::kAlreadyExists) << loser.error().message();
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM environments"), 30);
}

}  // namespace
}  // namespace cuttle::repo
