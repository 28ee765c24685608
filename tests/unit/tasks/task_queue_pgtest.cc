// Claim and fencing statements under real concurrency on PostgreSQL.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "repo/deployments.h"
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

// A Database on the same PostgreSQL database whose next reply to a statement that satisfies
// `match` is lost after the server carried the statement out (OpenOptions::lose_reply_after).
std::unique_ptr<db::Database> LosingOneReply(const std::string& url,
                                             std::function<bool(std::string_view)> match) {
  db::OpenOptions o;
  o.url = url;
  auto lost = std::make_shared<std::atomic<bool>>(false);
  o.lose_reply_after = [lost, match](std::string_view sql) {
    return match(sql) && !lost->exchange(true);
  };
  auto db = db::Open(o);
  EXPECT_TRUE(db.has_value()) << db.error().message();
  return db ? std::move(*db) : nullptr;
}

int64_t CountRows(db::Database& db, const std::string& table) {
  auto rs = db.Execute("SELECT count(*) FROM " + table);
  EXPECT_TRUE(rs.has_value()) << rs.error().message();
  return rs ? rs->front().GetInt(0) : -1;
}

TEST_F(TaskQueuePgTest, AnEnqueueWhoseReplyIsLostMakesOneTask) {
  ASSERT_TRUE(a_);
  auto lossy = LosingOneReply(
      url_, [](std::string_view sql) { return sql.find("INSERT INTO server_tasks") != sql.npos; });
  ASSERT_TRUE(lossy);
  TaskQueue q(*lossy);
  auto task = q.Enqueue(Script());
  ASSERT_TRUE(task.has_value()) << task.error().message();
  EXPECT_EQ(CountRows(*a_, "server_tasks"), 1);
  auto row = a_->Execute("SELECT id FROM server_tasks");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->front().GetString(0), task->id) << "the retry returns the row it inserted";
  EXPECT_EQ(task->state, TaskState::kQueued);
}

TEST_F(TaskQueuePgTest, ADeploymentWhoseCommitReplyIsLostIsCreatedOnce) {
  // What the API's deployment creation writes in one InTransaction: a deployment number, its
  // Deploy task and the deployment row.
  ASSERT_TRUE(a_);
  auto lossy = LosingOneReply(url_, [](std::string_view sql) { return sql.ends_with("COMMIT"); });
  ASSERT_TRUE(lossy);
  TaskQueue q(*lossy);
  int runs = 0;
  std::string task_id;
  auto r = lossy->InTransaction([&](db::Transaction& tx) -> Result<void> {
    ++runs;
    CUTTLE_TRY(auto seq, repo::ReserveDeploymentSeq(tx));
    NewTask t = Script();
    t.name = "Deploy";
    CUTTLE_TRY(auto task, q.EnqueueIn(tx, t));
    task_id = task.id;
    repo::DeploymentRow d;
    d.seq = seq;
    d.space_id = "Spaces-1";
    d.project_id = "Projects-1";
    d.environment_id = "Environments-1";
    d.release_id = "Releases-1";
    d.channel_id = "Channels-1";
    d.task_id = task.id;
    CUTTLE_TRY_VOID(repo::InsertDeployment(tx, d));
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(CountRows(*a_, "server_tasks"), 1);
  EXPECT_EQ(CountRows(*a_, "deployments"), 1);
  auto row = a_->Execute("SELECT task_id FROM deployments");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->front().GetString(0), task_id);
}

}  // namespace
}  // namespace cuttle::tasks
