// The deployment orchestrator on SQLite: real scripts, a real package, the durable units.
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
#include "testing/fake_clock.h"

namespace cuttle::deploy::testing {
namespace {

class SqliteDeployTest : public DeployTest {
 protected:
  SqliteDeployTest() { Init(::cuttle::testing::NewSqlite(dir_)); }
};

#define DEPLOY_FIXTURE SqliteDeployTest
#include "agent_cases.inc"
#include "deploy_cases.inc"

// The database clock is a fake one: liveness judged by now_ms() moves only when the test says.
::cuttle::testing::FakeClock& DatabaseClock() {
  static auto* clock = new ::cuttle::testing::FakeClock();  // outlives every database
  return *clock;
}

class SqliteFakeClockDeployTest : public DeployTest {
 protected:
  SqliteFakeClockDeployTest() { Init(::cuttle::testing::NewSqlite(dir_, &DatabaseClock())); }
};

TEST_F(SqliteFakeClockDeployTest, AnAgentsLeaseRunsOutOnTheDatabaseClock) {
  FakeAgent agent(*db_, *secrets_);
  AgentRun run(*this, "sleep 1000");
  const std::string id = agent.Await(task_.id, kHelloUnit);
  agent.Claim(id);  // lease: 45 s from now
  agent.Chunk(id, 0, {"started"});
  agent.AwaitValue("SELECT delivered_seq FROM agent_commands WHERE id = $1", {id}, "0");
  DatabaseClock().Advance(std::chrono::seconds(44));
  agent.Chunk(id, 1, {"still alive"});  // the unit re-reads: not lost yet
  agent.AwaitValue("SELECT delivered_seq FROM agent_commands WHERE id = $1", {id}, "1");
  EXPECT_EQ(agent.State(id), "running");
  DatabaseClock().Advance(std::chrono::seconds(2));
  (void)db_->Notify(agentwire::kCommandChannel, id);
  auto outcome = run.Join();
  EXPECT_EQ(outcome.state, tasks::TaskState::kFailed);
  EXPECT_EQ(outcome.error.rfind("The agent on web-1 stopped answering", 0), 0u) << outcome.error;
  EXPECT_EQ(agent.State(id), "lost");
}

TEST_F(SqliteFakeClockDeployTest, AnUnclaimedCommandExpiresAfterSixtySecondsOnTheDatabaseClock) {
  FakeAgent agent(*db_, *secrets_);
  AgentRun run(*this, "true");
  const std::string id = agent.Await(task_.id, kHelloUnit);
  DatabaseClock().Advance(std::chrono::seconds(59));
  (void)db_->Notify(agentwire::kCommandChannel, id);
  EXPECT_EQ(agent.State(id), "queued");
  DatabaseClock().Advance(std::chrono::seconds(2));
  (void)db_->Notify(agentwire::kCommandChannel, id);
  auto outcome = run.Join();
  EXPECT_EQ(outcome.error, "The agent on web-1 did not pick up the step within 60 s.");
  EXPECT_EQ(agent.State(id), "expired");
}

}  // namespace
}  // namespace cuttle::deploy::testing
