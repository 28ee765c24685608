// Claim and fencing statements under real concurrency on PostgreSQL.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "repo/repo.h"
#include "tasks/task_queue.h"
#include "testing/test_db.h"

namespace cuttle::tasks {
namespace {

class TaskQueuePgTest : public ::testing::Test {
 protected:
  TaskQueuePgTest() : url_(testing::NewPostgresDatabase()) {
    a_ = testing::OpenMigrated(url_);
    b_ = testing::OpenMigrated(url_);
  }
  std::string url_;
  std::unique_ptr<db::Database> a_, b_;
};

NewTask Script() {
  NewTask t;
  t.name = "AdHocScript";
  t.arguments = {{"ScriptBody", "true"}};
  return t;
}

TEST_F(TaskQueuePgTest, TwoThreadsOneTaskExactlyOneClaim) {
  ASSERT_TRUE(a_ && b_);
  TaskQueue qa(*a_), qb(*b_);
  for (int round = 0; round < 50; ++round) {
    ASSERT_TRUE(qa.Enqueue(Script()));
    std::atomic<int> claims{0};
    std::atomic<bool> go{false};
    auto claimer = [&](TaskQueue& q, const char* node) {
      while (!go) {
      }
      auto c = q.Claim(node);
      ASSERT_TRUE(c) << c.error().message();
      if (*c) ++claims;
    };
    std::thread t1(claimer, std::ref(qa), "n1"), t2(claimer, std::ref(qb), "n2");
    go = true;
    t1.join();
    t2.join();
    EXPECT_EQ(claims.load(), 1) << "round " << round;
  }
}

TEST_F(TaskQueuePgTest, ManyClaimersClaimEveryTaskExactlyOnce) {
  ASSERT_TRUE(a_ && b_);
  TaskQueue qa(*a_), qb(*b_);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(qa.Enqueue(Script()));
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      TaskQueue& q = i % 2 ? qa : qb;
      for (;;) {
        // Half the claimers take batches (as a node with several free slots does).
        auto c = q.ClaimUpTo(fmt::format("n{}", i), i < 2 ? 1 : 3);
        ASSERT_TRUE(c);
        if (c->empty()) return;
        std::lock_guard lock(mu);
        for (const auto& t : *c) claimed.insert(t.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), 200u);
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 200u);
}

TEST_F(TaskQueuePgTest, ConcurrencyTagHoldsUnderRacingClaims) {
  ASSERT_TRUE(a_ && b_);
  TaskQueue qa(*a_), qb(*b_);
  for (int round = 0; round < 20; ++round) {
    auto t1 = Script(), t2 = Script();
    t1.concurrency_tag = t2.concurrency_tag = "tag-" + std::to_string(round);
    ASSERT_TRUE(qa.Enqueue(t1));
    ASSERT_TRUE(qa.Enqueue(t2));
    std::atomic<int> claims{0};
    std::thread x([&] {
      if (qa.Claim("n1").value()) ++claims;
    });
    std::thread y([&] {
      if (qb.Claim("n2").value()) ++claims;
    });
    x.join();
    y.join();
    EXPECT_EQ(claims.load(), 1) << "round " << round;
    // Finish whatever was claimed so the next round starts clean.
    TaskFilter running;
    running.running = true;
    auto executing = qa.List(running).value().items;
    for (const auto& t : executing) {
      ASSERT_TRUE(
          qa.Complete({t.id, t.server_node, t.claim_epoch}, TaskState::kSuccess, "", false));
    }
    TaskFilter queued;
    queued.states = {TaskState::kQueued};
    auto waiting = qa.List(queued).value().items;
    for (const auto& t : waiting) ASSERT_TRUE(qa.Cancel(t.id));
  }
}

TEST_F(TaskQueuePgTest, ReaperAndOwnerRaceToFinishOnlyOneWins) {
  ASSERT_TRUE(a_ && b_);
  TaskQueue qa(*a_), qb(*b_);
  for (int round = 0; round < 30; ++round) {
    ASSERT_TRUE(qa.Enqueue(Script()));
    auto t = qa.Claim("owner").value();
    ASSERT_TRUE(t);
    ASSERT_TRUE(qa.MarkWorkStarted({t->id, "owner", t->claim_epoch}));
    auto refreshed = qa.Get(t->id).value();
    std::atomic<int> wins{0};
    std::thread owner([&] {
      if (qa.Complete({t->id, "owner", t->claim_epoch}, TaskState::kSuccess, "", false)) ++wins;
    });
    std::thread reaper([&] {
      if (qb.ResolveOrphan(*refreshed, "owner died").value()) ++wins;
    });
    owner.join();
    reaper.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace cuttle::tasks
