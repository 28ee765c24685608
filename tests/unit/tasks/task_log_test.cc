#include "tasks/task_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::tasks {
namespace {

TEST(TaskLogTest, AppendsOctopusShapedLinesReadableFromAnyOffset) {
  testing::TempDir dir;
  std::string path = TaskLogPath(dir.path().string(), "ServerTasks-7");
  EXPECT_EQ(path, dir.Sub("servertasks-7.log"));
  TaskLogWriter log(path, [] { return true; });
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "hello"));
  ASSERT_TRUE(log.Flush());  // from here on every append is written at once
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
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "held"));
  ASSERT_TRUE(log.Flush());
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "written at once"));
  EXPECT_FALSE(log.refused());
  allowed = false;
  auto r = log.Append(LogCategory::kInfo, "late write");
  EXPECT_TRUE(log.refused());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLostOwnership);
  EXPECT_EQ(ParseLog(ReadLog(path, 0, 1 << 20).value()).size(), 3u);
}

TEST(TaskLogTest, HeldLinesReachTheFileOnceDue) {
  testing::TempDir dir;
  testing::FakeClock clock;
  std::string path = TaskLogPath(dir.path().string(), "ServerTasks-2");
  TaskLogWriter log(
      path, [] { return true; }, clock);
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "first"));
  clock.Advance(TaskLogWriter::kFlushDelay - core::Millis(1));
  ASSERT_TRUE(log.FlushIfDue());
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "second"));  // does not restart the wait
  clock.Advance(core::Millis(1));
  ASSERT_TRUE(log.FlushIfDue());
  EXPECT_EQ(ParseLog(ReadLog(path, 0, 1 << 20).value()).size(), 2u);
  // The file exists: further lines go straight to it, and the log is not recorded elsewhere.
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "third"));
  EXPECT_EQ(ParseLog(ReadLog(path, 0, 1 << 20).value()).size(), 3u);
  EXPECT_EQ(log.TextForResult().value(), std::nullopt);
}

TEST(TaskLogTest, AShortLogIsRecordedWithTheResultAndMakesNoFile) {
  testing::TempDir dir;
  testing::FakeClock clock;
  std::string path = TaskLogPath(dir.path().string(), "ServerTasks-3");
  TaskLogWriter log(
      path, [] { return true; }, clock);
  ASSERT_TRUE(log.Append(LogCategory::kInfo, "claimed"));
  ASSERT_TRUE(log.Append(LogCategory::kError, "done"));
  auto text = log.TextForResult().value();
  ASSERT_TRUE(text.has_value());
  EXPECT_FALSE(std::filesystem::exists(path));
  auto elements = ParseLog(*text);
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[1].category, "Error");
  EXPECT_TRUE(log.has_warnings_or_errors());
  // Either form reads the same way; the recorded text wins over a (missing) file.
  EXPECT_EQ(ReadTaskLog(path, text, 1 << 20).value(), *text);
  EXPECT_EQ(ReadTaskLog(path, std::nullopt, 1 << 20).value(), "");
  // Recording failed: the held lines can still be flushed to the file.
  ASSERT_TRUE(log.Flush());
  EXPECT_EQ(ReadLog(path, 0, 1 << 20).value(), *text);
}

TEST(TaskLogTest, ALargeLogGoesToTheFileAtOnce) {
  testing::TempDir dir;
  testing::FakeClock clock;
  std::string path = TaskLogPath(dir.path().string(), "ServerTasks-4");
  TaskLogWriter log(
      path, [] { return true; }, clock);
  ASSERT_TRUE(log.Append(LogCategory::kInfo, std::string(TaskLogWriter::kMaxHeldBytes, 'x')));
  EXPECT_GT(LogSize(path), TaskLogWriter::kMaxHeldBytes);
  EXPECT_EQ(log.TextForResult().value(), std::nullopt);
}

}  // namespace
}  // namespace cuttle::tasks
