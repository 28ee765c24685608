#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "cluster/scheduler.h"
#include "testing/test_db.h"

namespace cuttle::cluster {
namespace {

TEST(SchedulerPgTest, ConcurrentNodesTakeADueRunOnce) {
  auto url = testing::NewPostgresDatabase();
  auto a = testing::OpenMigrated(url), b = testing::OpenMigrated(url);
  ASSERT_TRUE(a && b);
  Scheduler sa(*a, core::SystemClock::Instance(), "a"), sb(*b, core::SystemClock::Instance(), "b");
  for (int round = 0; round < 20; ++round) {
    std::string name = "job-" + std::to_string(round);
    std::atomic<int> taken{0};
    std::thread x([&] {
      if (sa.TakeIfDue(name, std::chrono::hours(1)).value()) ++taken;
    });
    std::thread y([&] {
      if (sb.TakeIfDue(name, std::chrono::hours(1)).value()) ++taken;
    });
    x.join();
    y.join();
    EXPECT_EQ(taken.load(), 1) << name;
  }
}

}  // namespace
}  // namespace cuttle::cluster
