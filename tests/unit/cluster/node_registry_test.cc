// Membership on SQLite with a FakeClock driving both the node and the database clock (now_ms()):
// liveness arithmetic and fencing without waiting for real time.
#include "cluster/node_registry.h"

#include <gtest/gtest.h>

#include <thread>

#include "repo/nodes.h"
#include "testing/fake_clock.h"
#include "testing/faulty_db.h"
#include "testing/test_db.h"

namespace cuttle::cluster {
namespace {

class NodeRegistryTest : public ::testing::Test {
 protected:
  NodeRegistryTest() : db_(testing::NewSqlite(dir_, &clock_)) {}
  RegistryOptions Options(const std::string& name) {
    return RegistryOptions{name, "1.2.3", 2, 5, 1000, 5000, /*heartbeat_thread=*/false};
  }
  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<db::Database> db_;
};

TEST_F(NodeRegistryTest, NodeIsOfflineOnlyAfterTheTimeoutOnTheDatabaseClock) {
  NodeRegistry a(*db_, clock_, Options("a"));
  ASSERT_TRUE(a.Start());
  auto nodes = repo::ListAllNodes(*db_, 5000).value();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].id, "OctopusServerNodes-a");
  EXPECT_EQ(nodes[0].version, "1.2.3");
  EXPECT_FALSE(nodes[0].is_offline);
  clock_.Advance(std::chrono::milliseconds(5000));
  EXPECT_FALSE(repo::ListAllNodes(*db_, 5000).value()[0].is_offline);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(repo::ListAllNodes(*db_, 5000).value()[0].is_offline);
  ASSERT_TRUE(a.HeartbeatOnce());
  EXPECT_FALSE(repo::ListAllNodes(*db_, 5000).value()[0].is_offline);
}

TEST_F(NodeRegistryTest, FencesItselfAfterHalfTheTimeoutWithoutAHeartbeat) {
  NodeRegistry a(*db_, clock_, Options("a"));
  ASSERT_TRUE(a.Start());
  EXPECT_FALSE(a.fenced());
  clock_.Advance(std::chrono::milliseconds(2500));
  EXPECT_FALSE(a.fenced());
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(a.fenced());
  EXPECT_FALSE(a.offline());
  int64_t generation = a.fence_generation();
  ASSERT_TRUE(a.HeartbeatOnce());
  EXPECT_FALSE(a.fenced());
  EXPECT_EQ(a.fence_generation(), generation + 1) << "work begun before the gap is suspect";
  clock_.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(a.HeartbeatOnce());
  EXPECT_EQ(a.fence_generation(), generation + 1) << "regular heartbeats change nothing";
}

TEST_F(NodeRegistryTest, AFailedHeartbeatMakesTheNodeUnhealthyUntilOneSucceeds) {
  testing::FaultyDatabase faulty(*db_);
  NodeRegistry a(faulty, clock_, Options("a"));
  ASSERT_TRUE(a.Start());
  EXPECT_TRUE(a.healthy());
  faulty.fail_single_attempts = true;
  clock_.Advance(std::chrono::milliseconds(1000));
  EXPECT_FALSE(a.HeartbeatOnce());
  EXPECT_FALSE(a.healthy()) << "one failed attempt: claim nothing more";
  EXPECT_FALSE(a.fenced()) << "running work carries on until the fence";
  faulty.fail_single_attempts = false;
  clock_.Advance(std::chrono::milliseconds(100));
  ASSERT_TRUE(a.HeartbeatOnce());
  EXPECT_TRUE(a.healthy());
}

// A failover is over when the database answers again, but the node only knows once a heartbeat
// gets through: after a failed one the thread tries again within kHeartbeatRetry, not
// heartbeat_ms (nor the database's retry back-off, up to a second), so that the node neither
// stays idle nor reaches its fence while the database is already back.
TEST_F(NodeRegistryTest, AfterAFailedHeartbeatTheNextFollowsWithinTheRetryDelay) {
  testing::FaultyDatabase faulty(*db_);
  RegistryOptions options = Options("a");
  options.heartbeat_thread = true;
  NodeRegistry a(faulty, clock_, options);
  ASSERT_EQ(a.RetryDelay(), NodeRegistry::kHeartbeatRetry);
  ASSERT_LT(NodeRegistry::kHeartbeatRetry.count() * 9, options.heartbeat_ms);
  ASSERT_TRUE(a.Start());
  // Waits (bounded, real time) for the heartbeat thread to act on the fake time just set.
  auto settles = [&](bool healthy) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (a.healthy() != healthy && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    return a.healthy() == healthy;
  };
  faulty.fail_single_attempts = true;
  for (int i = 0; i < 20 && !settles(false); ++i) {
    clock_.Advance(std::chrono::milliseconds(options.heartbeat_ms / 10));
  }
  ASSERT_FALSE(a.healthy()) << "the thread's heartbeat failed";
  faulty.fail_single_attempts = false;
  // Less than one heartbeat interval of fake time: only a retry on the short cadence gets in.
  for (int i = 0; i < 9 && !settles(true); ++i) clock_.Advance(NodeRegistry::kHeartbeatRetry);
  EXPECT_TRUE(a.healthy());
  a.Stop();
}

TEST_F(NodeRegistryTest, ADeletedRowIsReinsertedKeepingNothingStale) {
  NodeRegistry a(*db_, clock_, Options("a"));
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(repo::DeleteNode(*db_, a.node_id()).value());
  EXPECT_TRUE(repo::ListAllNodes(*db_, 5000).value().empty());
  ASSERT_TRUE(a.HeartbeatOnce());
  EXPECT_EQ(repo::ListAllNodes(*db_, 5000).value().size(), 1u);
}

TEST_F(NodeRegistryTest, CapAndDrainLiveInTheRowAndSurviveRestarts) {
  {
    NodeRegistry a(*db_, clock_, Options("a"));
    ASSERT_TRUE(a.Start());
    repo::NodeUpdate u;
    u.max_concurrent_tasks = 9;
    u.is_in_maintenance_mode = true;
    u.modified_by = "test";
    ASSERT_TRUE(repo::UpdateNode(*db_, a.node_id(), u, 5000).value());
    ASSERT_TRUE(a.HeartbeatOnce());
    EXPECT_EQ(a.row().max_concurrent_tasks, 9);
    EXPECT_TRUE(a.row().is_in_maintenance_mode);
    a.Stop();
    EXPECT_TRUE(repo::ListAllNodes(*db_, 5000).value()[0].is_offline)
        << "clean stop: offline at once";
  }
  NodeRegistry again(*db_, clock_, Options("a"));  // initial cap 5 from config
  ASSERT_TRUE(again.Start());
  EXPECT_EQ(again.row().max_concurrent_tasks, 9) << "the row is the truth";
  EXPECT_TRUE(again.row().is_in_maintenance_mode);
  EXPECT_FALSE(repo::ListAllNodes(*db_, 5000).value()[0].is_offline);
}

}  // namespace
}  // namespace cuttle::cluster
