#include "tasks/retention.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tasks/task_log.h"
#include "testing/fake_clock.h"
#include "testing/test_db.h"

namespace cuttle::tasks {
namespace {

TEST(RetentionTest, PurgesLogsAndArtifactsOfTasksFinishedLongerAgoThanTheSetting) {
  testing::TempDir dir;
  testing::FakeClock clock;
  auto db = testing::NewSqlite(dir, &clock);
  std::string logs = dir.Sub("tasklogs"), arts = dir.Sub("artifacts");
  std::filesystem::create_directories(logs);
  std::filesystem::create_directories(arts);
  TaskQueue queue(*db);
  ArtifactStore artifacts(*db, arts);
  NewTask t;
  t.name = "Noop";
  auto old_task = queue.Enqueue(t).value();
  auto claimed = queue.Claim("n").value();
  Lease lease{claimed->id, "n", claimed->claim_epoch};
  ASSERT_TRUE(AppendLine(TaskLogPath(logs, old_task.id), LogCategory::kInfo, "old"));
  std::string src = dir.Sub("a.txt");
  ASSERT_TRUE(AppendLine(src, LogCategory::kInfo, "artifact"));
  auto source = ArtifactSource::Open(dir.path().string(), src, std::nullopt, 1 << 20);
  ASSERT_TRUE(source);
  ASSERT_TRUE(artifacts.Collect(lease, "Spaces-1", *source, "a.txt", {}));
  ASSERT_TRUE(queue.Complete(lease, TaskState::kSuccess, "", false));

  clock.Advance(std::chrono::hours(24 * 29));
  auto recent = queue.Enqueue(t).value();
  auto c2 = queue.Claim("n").value();
  ASSERT_TRUE(AppendLine(TaskLogPath(logs, recent.id), LogCategory::kInfo, "recent"));
  ASSERT_TRUE(queue.Complete({c2->id, "n", c2->claim_epoch}, TaskState::kSuccess, "", false));

  EXPECT_EQ(ApplyRetention(*db, artifacts, logs, 30).value(), 0);
  clock.Advance(std::chrono::hours(24 * 2));
  EXPECT_EQ(ApplyRetention(*db, artifacts, logs, 30).value(), 1);
  EXPECT_FALSE(std::filesystem::exists(TaskLogPath(logs, old_task.id)));
  EXPECT_TRUE(std::filesystem::exists(TaskLogPath(logs, recent.id)));
  EXPECT_TRUE(artifacts.List(std::nullopt, old_task.id).value().items.empty());
  EXPECT_TRUE(queue.Get(old_task.id).value().has_value()) << "the task row stays";
  EXPECT_EQ(ApplyRetention(*db, artifacts, logs, 30).value(), 0) << "purged once";
  EXPECT_EQ(ApplyRetention(*db, artifacts, logs, 0).value(), 0) << "0 keeps everything";
}

}  // namespace
}  // namespace cuttle::tasks
