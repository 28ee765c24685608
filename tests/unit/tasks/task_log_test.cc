#include "tasks/task_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

TEST(TaskLogTest, HasWarningLineReadsCategoriesAsParseLogDoes) {
  EXPECT_FALSE(HasWarningLine(""));
  EXPECT_FALSE(HasWarningLine("2026-01-01T00:00:00Z Info      | a Warning | in the text\n"));
  EXPECT_FALSE(HasWarningLine("no category at all | Warning\n"));
  EXPECT_TRUE(HasWarningLine("t Info      | one\nt Warning   | two\n"));
  EXPECT_TRUE(HasWarningLine("t Error     | e"));  // no final newline
  EXPECT_TRUE(HasWarningLine("t Fatal     | f\n"));
}

// The cache reads only what was appended since it last looked, waits for a partial line's
// newline, and starts over for a file that was replaced or shrank.
TEST(TaskLogTest, WarningScanCacheReadsOnlyWhatWasAppended) {
  testing::TempDir dir;
  const std::string path = dir.Sub("servertasks-9.log");
  auto append = [&](const std::string& text) { std::ofstream(path, std::ios::app) << text; };
  WarningScanCache cache;
  EXPECT_FALSE(cache.HasWarnings(dir.Sub("missing.log")).value());
  append("t Info      | one\n");
  EXPECT_FALSE(cache.HasWarnings(path).value());
  append("t Warn");  // a partial line: not judged yet
  EXPECT_FALSE(cache.HasWarnings(path).value());
  append("ing   | careful\n");
  EXPECT_TRUE(cache.HasWarnings(path).value());
  append("t Info      | later\n");
  EXPECT_TRUE(cache.HasWarnings(path).value()) << "a warning stays found while the log only grows";

  // Rewritten in place with the same inode but shorter: scanned again from the start.
  std::filesystem::resize_file(path, 0);
  append("t Info      | fresh\n");
  EXPECT_FALSE(cache.HasWarnings(path).value());
  // Replaced by another file (another inode), longer than what was scanned: from the start too.
  const std::string other = dir.Sub("other.log");
  std::ofstream(other) << "t Error     | early\n" << std::string(100, 'x') << "\n";
  std::filesystem::rename(other, path);
  EXPECT_TRUE(cache.HasWarnings(path).value());
}

}  // namespace
}  // namespace cuttle::tasks
