#include "cluster/scheduler.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/test_db.h"

namespace cuttle::cluster {
namespace {

TEST(SchedulerTest, EachDueRunIsTakenByExactlyOneNode) {
  testing::TempDir dir;
  testing::FakeClock clock;
  auto db = testing::NewSqlite(dir, &clock);
  int runs_a = 0, runs_b = 0;
  Scheduler a(*db, clock, "a"), b(*db, clock, "b");
  a.Add("job", std::chrono::seconds(10), [&]() -> Result<void> {
    ++runs_a;
    return {};
  });
  b.Add("job", std::chrono::seconds(10), [&]() -> Result<void> {
    ++runs_b;
    return {};
  });
  EXPECT_EQ(a.RunDue().size(), 1u) << "a new job is due at once";
  EXPECT_TRUE(b.RunDue().empty());
  clock.Advance(std::chrono::seconds(9));
  EXPECT_TRUE(a.RunDue().empty());
  EXPECT_TRUE(b.RunDue().empty());
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(b.RunDue().size(), 1u);
  EXPECT_TRUE(a.RunDue().empty());
  EXPECT_EQ(runs_a + runs_b, 2);
  EXPECT_EQ(runs_b, 1);
}

}  // namespace
}  // namespace cuttle::cluster
