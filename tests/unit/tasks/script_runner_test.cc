#include "tasks/script_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "core/strings.h"
#include "tasks/line_splitter.h"
#include "testing/temp_dir.h"

namespace cuttle::tasks {
namespace {

struct Captured {
  std::vector<std::pair<LogCategory, std::string>> lines;
  std::vector<std::pair<std::string, std::string>> artifacts;
  std::vector<std::optional<int64_t>> lengths;
  ScriptCallbacks Callbacks() {
    ScriptCallbacks cb;
    cb.on_line = [this](LogCategory c, std::string_view l) { lines.emplace_back(c, l); };
    cb.on_artifact = [this](const std::string& p, const std::string& n,
                            std::optional<int64_t> length) {
      artifacts.emplace_back(p, n);
      lengths.push_back(length);
    };
    return cb;
  }
};

ScriptOptions In(const testing::TempDir& dir, std::string body) {
  ScriptOptions o;
  o.body = std::move(body);
  o.work_dir = dir.Sub("work");
  std::filesystem::create_directories(o.work_dir);
  o.timeout = std::chrono::seconds(20);
  return o;
}

TEST(ServiceMessageTest, ParsesNameAndBase64Attributes) {
  auto m = ParseServiceMessage("##octopus[createArtifact path='L3RtcC9h' name='YS50eHQ=']");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "createArtifact");
  EXPECT_EQ(m->attributes["path"], "/tmp/a");
  EXPECT_EQ(m->attributes["name"], "a.txt");
  auto level = ParseServiceMessage("##octopus[stdout-warning]");
  ASSERT_TRUE(level);
  EXPECT_EQ(level->name, "stdout-warning");
  EXPECT_FALSE(ParseServiceMessage("hello ##octopus[x]"));
  EXPECT_FALSE(ParseServiceMessage("##octopus[createArtifact path='unterminated]"));
}

TEST(ScriptRunnerTest, StreamsStdoutAndStderrAndReturnsTheExitCode) {
  testing::TempDir dir;
  Captured c;
  auto r = RunScript(In(dir, "echo hello; echo oops >&2; pwd; exit 3"), c.Callbacks());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exit_code, 3);
  ASSERT_GE(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[0], std::pair(LogCategory::kInfo, std::string("hello")));
  bool saw_stderr = false, saw_pwd = false;
  for (auto& [cat, text] : c.lines) {
    saw_stderr = saw_stderr || (cat == LogCategory::kError && text == "oops");
    saw_pwd = saw_pwd || text == std::filesystem::canonical(dir.Sub("work")).string();
  }
  EXPECT_TRUE(saw_stderr);
  EXPECT_TRUE(saw_pwd) << "runs in its own working directory";
}

TEST(ScriptRunnerTest, HonoursLevelChangesAndHidesServiceMessages) {
  testing::TempDir dir;
  Captured c;
  auto r = RunScript(In(dir,
                        "write_warning careful\necho after\necho '##octopus[stdout-verbose]'\n"
                        "echo quiet\nwrite_highlight big"),
                     c.Callbacks());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 0);
  std::vector<std::pair<LogCategory, std::string>> expected = {{LogCategory::kWarning, "careful"},
                                                               {LogCategory::kInfo, "after"},
                                                               {LogCategory::kVerbose, "quiet"},
                                                               {LogCategory::kHighlight, "big"}};
  EXPECT_EQ(c.lines, expected);
}

TEST(ScriptRunnerTest, NewOctopusArtifactEmitsTheCollectMessage) {
  testing::TempDir dir;
  Captured c;
  auto r = RunScript(In(dir,
                        "echo data > report.txt\nnew_octopusartifact report.txt summary.txt\n"
                        "new_octopusartifact missing.txt || echo refused"),
                     c.Callbacks());
  ASSERT_TRUE(r);
  ASSERT_EQ(c.artifacts.size(), 1u);
  EXPECT_EQ(c.artifacts[0].first,
            std::filesystem::canonical(dir.Sub("work")).string() + "/report.txt");
  EXPECT_EQ(c.artifacts[0].second, "summary.txt");
  EXPECT_EQ(c.lengths[0], 5) << "the declared length";
  // stdout and stderr are separate pipes: only the order within each is defined.
  EXPECT_NE(std::find(c.lines.begin(), c.lines.end(),
                      std::pair(LogCategory::kInfo, std::string("refused"))),
            c.lines.end());
}

TEST(ScriptRunnerTest, FailStepGivesTheResultMessage) {
  testing::TempDir dir;
  Captured c;
  auto r = RunScript(In(dir, "fail_step 'the database is unreachable'"), c.Callbacks());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->result_message, "the database is unreachable");
}

TEST(ScriptRunnerTest, StopKillsTheWholeProcessGroupQuickly) {
  testing::TempDir dir;
  Captured c;
  auto cb = c.Callbacks();
  std::atomic<bool> stop{false};
  cb.should_stop = [&]() -> std::string { return stop ? "canceled" : ""; };
  cb.on_line = [&](LogCategory, std::string_view l) {
    if (l == "started") stop = true;
  };
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunScript(In(dir, "sleep 600 & echo started; sleep 600"), cb);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->killed_reason, "canceled");
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(ScriptRunnerTest, TimeoutKillsTheScript) {
  testing::TempDir dir;
  Captured c;
  auto o = In(dir, "sleep 600");
  o.timeout = std::chrono::milliseconds(200);
  auto r = RunScript(o, c.Callbacks());
  ASSERT_TRUE(r);
  EXPECT_NE(r->killed_reason.find("did not finish within 200 ms"), std::string::npos);
  EXPECT_NE(r->exit_code, 0);
}

// Bug (issue 9 #5): a script inherited the node's environment, so `env` printed the master key.
TEST(ScriptRunnerTest, TheScriptSeesNoneOfTheNodesSettings) {
  ::setenv("CUTTLE_MASTER_KEY", "bWFzdGVyLWtleS1zZWNyZXQ=", 1);
  ::setenv("CUTTLE_DATABASE", "postgresql://cuttle:db-password@db/cuttle", 1);
  testing::TempDir dir;
  Captured c;
  auto o = In(dir, "env");
  o.env = {{"OCTOPUS_TASK_ID", "ServerTasks-9"}};
  auto r = RunScript(o, c.Callbacks());
  ::unsetenv("CUTTLE_MASTER_KEY");
  ::unsetenv("CUTTLE_DATABASE");
  ASSERT_TRUE(r);
  std::string all;
  for (auto& [cat, text] : c.lines) all += text + "\n";
  EXPECT_EQ(all.find("bWFzdGVyLWtleS1zZWNyZXQ="), std::string::npos) << all;
  EXPECT_EQ(all.find("db-password"), std::string::npos) << all;
  EXPECT_EQ(all.find("CUTTLE_"), std::string::npos) << all;
  EXPECT_NE(all.find("OCTOPUS_TASK_ID=ServerTasks-9"), std::string::npos) << all;
  EXPECT_NE(all.find("PATH="), std::string::npos) << all;
}

// Bug (issue 9 #6): one endless output line was held whole in memory.
TEST(ScriptRunnerTest, AnEndlessLineReachesTheLogInBoundedPieces) {
  testing::TempDir dir;
  Captured c;
  auto r =
      RunScript(In(dir, "head -c 1000000 /dev/zero | tr '\\0' x; echo; echo done"), c.Callbacks());
  ASSERT_TRUE(r);
  size_t bytes = 0;
  for (auto& [cat, text] : c.lines) {
    EXPECT_LE(text.size(), LineSplitter::kMaxLine);
    if (text != "done") bytes += text.size();
  }
  EXPECT_EQ(bytes, 1000000u);
  EXPECT_EQ(c.lines.back().second, "done");
}

}  // namespace
}  // namespace cuttle::tasks
