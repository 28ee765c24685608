#include "tasks/task_log.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace cuttle::tasks {
namespace {

TEST(TaskLogTest, AppendsOctopusShapedLinesReadableFromAnyOffset) {
  testing::TempDir dir;
  std::string path = TaskLogPath(dir.path().string(), "ServerTasks-7");
  EXPECT_EQ(path, dir.Sub("servertasks-7.log"));
  TaskLogWriter log(path, [] { return true; });
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "hello"));
  uint64_t size = LogSize(path);
  ASSERT_TRUE(log.Append(LogCategory::kWarning, "two\nlines"));
  EXPECT_TRUE(log.has_warnings_or_errors());
  auto all = ReadLog(path, 0, 1 << 20).value();
  auto elements = ParseLog(all);
  ASSERT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements[0].category, "Info");
  EXPECT_EQ(elements[0].message, "hello");
  EXPECT_EQ(elements[2].category, "Warning");
  EXPECT_EQ(elements[2].message, "lines");
  auto tail = ReadLog(path, size, 1 << 20).value();
  EXPECT_EQ(ParseLog(tail).size(), 2u);
  EXPECT_EQ(ReadLog(path, 1 << 20, 10).value(), "");
  EXPECT_EQ(ReadLog(dir.Sub("missing.log"), 0, 10).value(), "");
}

TEST(TaskLogTest, WriterStopsOnceItMayNoLongerWrite) {
  testing::TempDir dir;
  std::string path = TaskLogPath(dir.path().string(), "ServerTasks-1");
  bool allowed = true;
  TaskLogWriter log(path, [&] { return allowed; });
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "mine"));
  allowed = false;
  auto r = log.Append(LogCategory::kInfo, "late write");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLostOwnership);
  EXPECT_EQ(ParseLog(ReadLog(path, 0, 1 << 20).value()).size(), 1u);
}

}  // namespace
}  // namespace cuttle::tasks
