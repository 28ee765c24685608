// The deployment orchestrator on PostgreSQL: the same cases as on SQLite.
#include <fmt/format.h>

#include <thread>

#include "../engine/package_fixtures.h"
#include "agentwire/wire.h"
#include "core/json.h"
#include "deploy/agent_target.h"
#include "deploy/health_kind.h"
#include "deploy/interruptions.h"
#include "deploy_fixture.h"
#include "model/machine.h"
#include "repo/machines.h"

namespace cuttle::deploy::testing {
namespace {

class PgDeployTest : public DeployTest {
 protected:
  PgDeployTest() {
    Init(::cuttle::testing::OpenMigrated(::cuttle::testing::NewPostgresDatabase()));
  }
};

#define DEPLOY_FIXTURE PgDeployTest
#include "agent_cases.inc"
#include "deploy_cases.inc"

// Waits (bounded) until `done` says so or a connection to the test's database waits for a lock.
bool AwaitLockWaitOr(db::Database& db, const std::function<bool()>& done) {
  return AwaitCondition([&] {
    if (done()) return true;
    auto rs = db.Execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
        "wait_event_type = 'Lock'");
    return rs && !rs->empty() && rs->front().GetInt(0) > 0;
  });
}

TEST_F(PgDeployTest, AnAdopterWaitsForTheStaleOwnersDeliveryAndRepeatsNone) {
  // Bug: an owner that had not yet noticed the adoption wrote a chunk's lines, then had its
  // fenced delivered_seq update refused; the adopter, reading the old delivered_seq, wrote the
  // same lines again. (SQLite cannot interleave so: the owner's write transaction holds off the
  // adopter's claim itself.)
  FakeAgent agent(*db_, *secrets_);
  SharedLog log;
  auto a = Claim("node-a");
  ASSERT_TRUE(a);
  const std::string id = CreateRunningCommand(*this, *a, agent);
  std::unique_ptr<FakeExecution> b;
  std::unique_ptr<CommandFollower> adopter;
  std::thread adopting;
  Result<std::optional<CommandEnd>> adopted = std::optional<CommandEnd>();
  // While node-a writes its first line, the task is adopted (a new claim epoch) and node-b steps.
  auto stale = Follow(*this, *db_, *a, log, [&] {
    if (adopting.joinable() || b) return;  // the first line only
    Orphan();
    b = Claim("node-b");
    if (!b) return;
    adopter = Follow(*this, *db_, *b, log);
    if (!adopter) return;
    adopting = std::thread([&] { adopted = adopter->Step(); });
    // node-b blocks on the command's row until node-a's delivery commits (the old code let it
    // write at once).
    EXPECT_TRUE(AwaitLockWaitOr(*db_, [&] { return log.Wrote("node-b"); }));
  });
  ASSERT_TRUE(stale);
  agent.Chunk(id, 0, {"chunk zero"});
  agent.Chunk(id, 1, {"chunk one"});
  agent.Chunk(id, 2, {"chunk two"});
  auto step = stale->Step();
  log.Add("node-a done");
  ASSERT_TRUE(adopting.joinable());
  adopting.join();
  // node-a wrote the lines and the row says so; it learns that the task is no longer its own.
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code(), ErrorCode::kLostOwnership) << step.error().message();
  ASSERT_TRUE(adopted) << adopted.error().message();
  agent.Chunk(id, 3, {"chunk three"});
  adopted = adopter->Step();
  ASSERT_TRUE(adopted) << adopted.error().message();
  EXPECT_EQ(log.lines(),
            (std::vector<std::string>{"node-a chunk zero", "node-a chunk one", "node-a chunk two",
                                      "node-a done", "node-b chunk three"}));
  agent.AwaitValue("SELECT delivered_seq FROM agent_commands WHERE id = $1", {id}, "3");
}

}  // namespace
}  // namespace cuttle::deploy::testing
