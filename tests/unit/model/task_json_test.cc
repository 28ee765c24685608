// A task's JSON: times as ISO 8601 or null, and a running task's Duration from the injected clock.
#include <gtest/gtest.h>

#include "model/task.h"
#include "testing/fake_clock.h"

namespace cuttle::model {
namespace {

TEST(TaskJsonTest, ARunningTasksDurationComesFromTheClockAndAFinishedOnesFromItsTimes) {
  testing::FakeClock clock(1'800'000'000'000);
  tasks::Task t;
  t.id = "ServerTasks-7";
  t.space_id = "Spaces-1";
  t.name = "Noop";
  t.state = tasks::TaskState::kExecuting;
  t.queue_time = 1'800'000'000'000;
  t.start_time = 1'800'000'000'000;
  clock.Advance(core::Millis(120'000));
  auto running = TaskJson(t, clock);
  EXPECT_EQ(running["Duration"], "2 minutes");
  EXPECT_EQ(running["IsCompleted"], false);
  EXPECT_TRUE(running["Completed"].is_null());
  EXPECT_EQ(running["StartTime"], "2027-01-15T08:00:00.000+00:00");

  t.state = tasks::TaskState::kSuccess;
  t.completed_time = *t.start_time + 3'000;
  clock.Advance(core::Millis(3'600'000));
  auto done = TaskJson(t, clock);
  EXPECT_EQ(done["Duration"], "3 seconds");
  EXPECT_EQ(done["FinishedSuccessfully"], true);
  EXPECT_EQ(done["Links"]["Raw"], "/api/tasks/ServerTasks-7/raw");
  EXPECT_TRUE(IsoOrNullJson(std::nullopt).is_null());
}

}  // namespace
}  // namespace cuttle::model
