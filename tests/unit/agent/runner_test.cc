// The detached runner, started from the real binary as the agent starts it.
#include "agent/runner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/journal.h"
#include "core/json.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::agent {
namespace {

using namespace std::chrono_literals;

std::string Prepare(const std::string& home, const std::string& id, const std::string& script,
                    agentwire::CommandKind kind = agentwire::CommandKind::kScript) {
  auto j = CommandJournal::Create(home + "/journal", id, 1);
  EXPECT_TRUE(j);
  agentwire::Envelope e;
  e.command_id = id;
  e.kind = kind;
  e.task_id = "ServerTasks-1";
  e.script_body = script;
  e.variables.Set("Greeting", "hello");
  e.variables.Set("Secret", "s3cr3t-value", /*sensitive=*/true);
  e.timeout_seconds = 60;
  EXPECT_TRUE(WriteFileDurably(j->PathOf("command.json"), agentwire::EnvelopeToJson(e).dump()));
  return j->dir();
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

agentwire::CommandResult ResultOf(const std::string& dir) {
  auto text = ReadWholeFile(dir + "/result.json");
  EXPECT_TRUE(text);
  auto json = core::ParseJson(text ? *text : "{}");
  auto r = agentwire::ResultFromJson(*json);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? *r : agentwire::CommandResult{};
}

std::vector<std::string> SpoolTexts(const std::string& dir) {
  auto text = ReadWholeFile(dir + "/spool.jsonl");
  auto lines = agentwire::DecodeChunk(text ? *text : "");
  EXPECT_TRUE(lines);
  std::vector<std::string> out;
  for (const auto& l : lines ? *lines : std::vector<agentwire::LogLine>{}) out.push_back(l.text);
  return out;
}

TEST(RunnerTest, RunsTheCommandDetachedAndWritesSpoolAndResult) {
  testing::TempDir tmp;
  const std::string home = tmp.Sub("home");
  const std::string dir =
      Prepare(home, "C1",
              "echo \"#{Greeting} world\"\necho \"$(get_octopusvariable Secret)\"\n"
              "set_octopusvariable Out 42\necho oops >&2\nexit 3\n");
  auto pid = SpawnRunner(CUTTLE_AGENT_BINARY, home, "C1");
  ASSERT_TRUE(pid) << pid.error().message();
  EXPECT_GT(ProcessStartTime(*pid), 0u);
  // Not our child: the double fork re-parented it.
  EXPECT_EQ(::waitpid(*pid, nullptr, WNOHANG), -1);
  auto journal = CommandJournal::Open(home + "/journal", "C1");
  ASSERT_TRUE(journal);
  ASSERT_TRUE(WaitFor([&] { return Exists(dir + "/result.json") && !RunnerAlive(*journal); }));
  EXPECT_FALSE(Exists(dir + "/command.json"));  // sensitive: read once, then gone
  auto result = ResultOf(dir);
  EXPECT_EQ(result.state, agentwire::ResultState::kFailed);
  EXPECT_EQ(result.outcome.exit_code, 3);
  EXPECT_TRUE(result.outcome.wrote_to_stderr);
  ASSERT_EQ(result.outcome.output_variables.size(), 1u);
  EXPECT_EQ(result.outcome.output_variables[0].value, "42");
  auto texts = SpoolTexts(dir);
  ASSERT_GE(texts.size(), 3u);
  EXPECT_EQ(texts[0], "hello world");  // the body was substituted
  EXPECT_EQ(texts[1], "********");     // sensitive values are masked before the spool
  EXPECT_EQ(texts[2], "oops");
  EXPECT_FALSE(Exists(home + "/work/C1"));
}

// The spool's cap: past it lines are dropped and counted, never waited for; once the server has
// taken enough (the agent's AckedSeq), one Warning says how many were dropped.
TEST(RunnerTest, TheSpoolIsCappedAndSaysWhatItDropped) {
  testing::TempDir tmp;
  auto j = CommandJournal::Create(tmp.Sub("journal"), "C9", 1);
  ASSERT_TRUE(j);
  testing::FakeClock clock;
  const std::string one =
      agentwire::EncodeLine({engine::LogCategory::kInfo, "line-00", 1'800'000'000'000});
  const uint64_t cap = 4 * one.size() + 10;  // room for 4 lines of this size
  SpoolWriter spool(*j, cap, clock);
  for (int i = 0; i < 10; ++i) spool.Line(engine::LogCategory::kInfo, fmt::format("line-{:02}", i));
  EXPECT_EQ(SpoolTexts(j->dir()),
            (std::vector<std::string>{"line-00", "line-01", "line-02", "line-03"}));
  EXPECT_EQ(spool.dropped_lines(), 6u);

  // The agent sends what it cut and the server takes it: the backlog is empty, which the writer
  // reads again at most every kRecheck; meanwhile lines are still dropped, not waited for.
  auto cut = j->CutChunk(1 << 20);
  ASSERT_TRUE(cut && *cut);
  JournalState s = j->state();
  s.acked_seq = (*cut)->seq;
  ASSERT_TRUE(j->Save(s));
  spool.Line(engine::LogCategory::kInfo, "line-10");
  EXPECT_EQ(spool.dropped_lines(), 7u);
  clock.Advance(SpoolWriter::kRecheck);
  spool.Line(engine::LogCategory::kInfo, "line-11");
  auto texts = SpoolTexts(j->dir());
  ASSERT_EQ(texts.size(), 6u);
  EXPECT_EQ(texts[4], "7 line(s) of output (49 bytes) were dropped: the agent's spool was full (" +
                          std::to_string(cap) +
                          " bytes not yet sent) while the server was unreachable");
  EXPECT_EQ(texts[5], "line-11");
  EXPECT_EQ(spool.dropped_lines(), 0u);
  auto lines = agentwire::DecodeChunk(*ReadWholeFile(j->PathOf("spool.jsonl")));
  ASSERT_TRUE(lines);
  EXPECT_EQ((*lines)[4].category, engine::LogCategory::kWarning);

  // Full again until the step ends: the warning is the spool's last line, past the cap.
  for (int i = 12; i < 20; ++i) spool.Line(engine::LogCategory::kInfo, fmt::format("line-{}", i));
  EXPECT_GT(spool.dropped_lines(), 0u);
  spool.Finish();
  texts = SpoolTexts(j->dir());
  EXPECT_NE(texts.back().find("line(s) of output"), std::string::npos) << texts.back();
  spool.Finish();  // said once
  EXPECT_EQ(SpoolTexts(j->dir()).size(), texts.size());
}

TEST(RunnerTest, SurvivesTheAgentBeingKilledAndRunsOnlyOnce) {
  testing::TempDir tmp;
  const std::string home = tmp.Sub("home");
  const std::string marker = tmp.Sub("ran");
  const std::string dir =
      Prepare(home, "C2", "echo run >> " + marker + "\nsleep 1\necho finished\n");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    // The "agent": starts the runner, reports its pid, then waits to be killed.
    auto pid = SpawnRunner(CUTTLE_AGENT_BINARY, home, "C2");
    int v = pid ? *pid : -1;
    (void)!::write(fds[1], &v, sizeof v);
    ::pause();
    ::_exit(0);
  }
  int runner = 0;
  ASSERT_EQ(::read(fds[0], &runner, sizeof runner), static_cast<ssize_t>(sizeof runner));
  ASSERT_GT(runner, 0);
  ::kill(agent, SIGKILL);
  ::waitpid(agent, nullptr, 0);
  auto journal = CommandJournal::Open(home + "/journal", "C2");
  ASSERT_TRUE(journal);
  EXPECT_TRUE(RunnerAlive(*journal));  // the "agent" is dead, the runner is not
  // A second exec of the same command while it runs does nothing.
  EXPECT_FALSE(SpawnRunner(CUTTLE_AGENT_BINARY, home, "C2"));
  ASSERT_TRUE(WaitFor([&] { return Exists(dir + "/result.json") && !RunnerAlive(*journal); }));
  EXPECT_EQ(ResultOf(dir).state, agentwire::ResultState::kSucceeded);
  // Re-attach: a new agent cuts the whole spool from the journal.
  auto cut = journal->CutChunk(1 << 20);
  ASSERT_TRUE(cut && *cut);
  EXPECT_EQ(*journal->ReadChunk(**cut), *ReadWholeFile(dir + "/spool.jsonl"));
  // ...and once finished, another exec never runs it again.
  EXPECT_FALSE(SpawnRunner(CUTTLE_AGENT_BINARY, home, "C2"));
  EXPECT_EQ(*ReadWholeFile(marker), "run\n");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(RunnerTest, TheCancelFileKillsTheScript) {
  testing::TempDir tmp;
  const std::string home = tmp.Sub("home");
  const std::string dir = Prepare(home, "C3", "echo started\nsleep 30\necho never\n");
  auto pid = SpawnRunner(CUTTLE_AGENT_BINARY, home, "C3");
  ASSERT_TRUE(pid) << pid.error().message();
  ASSERT_TRUE(WaitFor([&] {
    auto t = ReadWholeFile(dir + "/spool.jsonl");
    return t && t->find("started") != std::string::npos;
  }));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WriteFileDurably(dir + "/cancel", "canceled\n"));
  ASSERT_TRUE(WaitFor([&] { return Exists(dir + "/result.json"); }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);  // killed, not the script's 30 s
  auto result = ResultOf(dir);
  EXPECT_EQ(result.state, agentwire::ResultState::kCanceled);
  EXPECT_EQ(result.message, kCanceledReason);
}

TEST(RunnerTest, AHealthCommandReportsFacts) {
  testing::TempDir tmp;
  const std::string home = tmp.Sub("home");
  const std::string dir = Prepare(home, "C4", "", agentwire::CommandKind::kHealth);
  ASSERT_TRUE(SpawnRunner(CUTTLE_AGENT_BINARY, home, "C4"));
  ASSERT_TRUE(WaitFor([&] { return Exists(dir + "/result.json"); }));
  auto result = ResultOf(dir);
  EXPECT_EQ(result.state, agentwire::ResultState::kSucceeded);
  EXPECT_TRUE(result.facts.contains("Hostname"));
  EXPECT_TRUE(result.facts.contains("AgentVersion"));
}

TEST(RunnerTest, ProcessStartTimeTellsAReusedPidApart) {
  EXPECT_GT(ProcessStartTime(::getpid()), 0u);
  EXPECT_EQ(ProcessStartTime(0), 0u);
  EXPECT_EQ(ProcessStartTime(999'999'999), 0u);
}

// A session like a runner's: its leader, plus two children that each moved to a process group of
// their own (as a script and what it starts do). KillSession reaches all three, and nothing else.
TEST(RunnerTest, KillSessionReachesEveryProcessGroupInTheSession) {
  // Orphans (the children, once the leader dies) come back to this process to be reaped.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t leader = ::fork();
  ASSERT_GE(leader, 0);
  if (leader == 0) {
    ::setsid();
    for (int i = 0; i < 2; ++i) {
      pid_t c = ::fork();
      if (c == 0) {
        ::setpgid(0, 0);
        for (;;) ::pause();
      }
      ::setpgid(c, c);  // as well as the child, so the group exists before the pid is reported
      (void)!::write(fds[1], &c, sizeof(c));
    }
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pid_t children[2];
  ASSERT_EQ(::read(fds[0], &children[0], sizeof(pid_t)), static_cast<ssize_t>(sizeof(pid_t)));
  ASSERT_EQ(::read(fds[0], &children[1], sizeof(pid_t)), static_cast<ssize_t>(sizeof(pid_t)));
  ::close(fds[0]);
  // The leader has called setsid once its children exist (it did so before forking them).
  ASSERT_EQ(::getsid(leader), leader);
  ASSERT_NE(::getpgid(children[0]), ::getpgid(leader));

  EXPECT_EQ(KillSession(0, SIGKILL), 0);
  EXPECT_EQ(KillSession(1, SIGKILL), 0);
  EXPECT_EQ(KillSession(::getsid(0), SIGKILL), 0);  // never the caller's own session
  EXPECT_EQ(KillSession(leader, SIGKILL), 3);
  for (pid_t p : {leader, children[0], children[1]}) {
    int status = 0;
    ASSERT_EQ(::waitpid(p, &status, 0), p);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << p;
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace cuttle::agent
