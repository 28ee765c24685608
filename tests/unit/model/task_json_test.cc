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

// A task parked waiting for an interruption's answer is Queued in its row; it is shown as Octopus
// shows a deployment waiting for a manual step: Executing, not completed, with the pending types.
TEST(TaskJsonTest, AParkedTaskIsShownExecutingWithItsPendingInterruptions) {
  tasks::Task t;
  t.id = "ServerTasks-8";
  t.space_id = "Spaces-1";
  t.name = "Deploy";
  t.state = tasks::TaskState::kQueued;
  t.queue_time = 1'800'000'000'000;
  t.start_time = 1'800'000'000'000;
  t.parked = true;
  auto parked = TaskJson(t, {"ManualIntervention"});
  EXPECT_EQ(parked["State"], "Executing");
  EXPECT_EQ(parked["IsCompleted"], false);
  EXPECT_EQ(parked["HasPendingInterruptions"], true);
  EXPECT_EQ(parked["PendingInterruptionTypes"], nlohmann::json::array({"ManualIntervention"}));
  EXPECT_EQ(parked["HasBeenPickedUpByProcessor"], true);
  EXPECT_TRUE(parked["ServerNode"].is_null());
  EXPECT_EQ(ShownState(t), tasks::TaskState::kExecuting);

  t.parked = false;  // answered, waiting for a node to resume it
  auto resumed = TaskJson(t, {});
  EXPECT_EQ(resumed["State"], "Queued");
  EXPECT_EQ(resumed["HasPendingInterruptions"], false);
  EXPECT_EQ(resumed["PendingInterruptionTypes"], nlohmann::json::array());

  t.state = tasks::TaskState::kCanceled;  // a finished task has nothing pending
  t.completed_time = *t.start_time + 10;
  auto canceled = TaskJson(t, {"GuidedFailure"});
  EXPECT_EQ(canceled["State"], "Canceled");
  EXPECT_EQ(canceled["HasPendingInterruptions"], false);
}

}  // namespace
}  // namespace cuttle::model
