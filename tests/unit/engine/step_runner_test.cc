// RunStep against real bash and python3: every helper of the bootstraps, every service message,
// the variables with awkward values, masking, timeout and cancel.
#include "engine/step_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/bootstrap.h"
#include "engine/line_splitter.h"
#include "engine/masker.h"
#include "engine/service_messages.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;
using Line = std::pair<LogCategory, std::string>;

// What a run handed to its callbacks.
struct Captured {
  std::vector<Line> lines;
  std::vector<std::pair<int, std::string>> progress;
  std::function<void(std::string_view)> on_text;  // called for every line, after recording it

  StepCallbacks Callbacks() {
    StepCallbacks cb;
    cb.on_line = [this](LogCategory c, std::string_view l) {
      lines.emplace_back(c, l);
      if (on_text) on_text(l);
    };
    cb.on_progress = [this](int p, std::string_view m) { progress.emplace_back(p, m); };
    return cb;
  }
  bool Has(LogCategory c, std::string_view text) const {
    return std::find(lines.begin(), lines.end(), Line(c, std::string(text))) != lines.end();
  }
  std::string All() const {
    std::string all;
    for (const auto& [c, text] : lines) all += text + "\n";
    return all;
  }
  // The lines at one level, in order.
  std::vector<std::string> At(LogCategory level) const {
    std::vector<std::string> out;
    for (const auto& [c, text] : lines) {
      if (c == level) out.push_back(text);
    }
    return out;
  }
};

StepScript In(const testing::TempDir& dir, std::string body,
              ScriptSyntax syntax = ScriptSyntax::kBash) {
  StepScript s;
  s.body = std::move(body);
  s.syntax = syntax;
  s.work_dir = dir.Sub("work");
  fs::create_directories(s.work_dir);
  s.timeout = std::chrono::seconds(20);
  return s;
}

StepOutcome MustRun(const StepScript& script, Captured& c) {
  auto r = RunStep(script, c.Callbacks());
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : StepOutcome{};
}

// Values a shell or an interpreter could mangle, under names that are not identifiers.
VariableDictionary Awkward() {
  VariableDictionary v;
  v.Set("Octopus.Environment.Name", "Production");
  v.Set("Quotes", "it's \"quoted\" and 'single'");
  v.Set("Multi.Line", "line one\nline two\n\n");
  v.Set("Unicode", "ünïcødé ✓ 日本語 🚀");
  v.Set("Dollars", "$HOME ${PATH} $(echo injected) `echo injected` $((1+1)) \\$");
  v.Set("EchoOption", "-n");
  v.Set("OtherEchoOption", "-e \\t");
  v.Set("Backslashes", "C:\\Temp\\new\\table");
  v.Set("Empty", "");
  v.Set("Spaces", "  padded  \t");
  v.Set("Glob", "*");
  v.Set("CarriageReturn", "windows\r\nline\r\n");
  v.Set("Name With Spaces", "spaced name");
  v.Set("Octopus.Action[Step 1].Output.Result", "bracketed");
  v.Set("weird]name'\"$x", "weird name");
  v.Set("Ünï.Name", "unicode name");
  return v;
}

std::map<std::string, std::string> AsMap(const VariableDictionary& d) {
  std::map<std::string, std::string> out;
  for (const auto& [_, v] : d) out[v.name] = v.value;
  return out;
}

std::map<std::string, std::string> OutputsAsMap(const StepOutcome& o) {
  std::map<std::string, std::string> out;
  for (const auto& v : o.output_variables) out[v.name] = v.value;
  return out;
}

TEST(StepSyntaxTest, ParsesOctopusSyntaxNames) {
  EXPECT_EQ(ParseScriptSyntax("Bash"), ScriptSyntax::kBash);
  EXPECT_EQ(ParseScriptSyntax("python"), ScriptSyntax::kPython);
  EXPECT_FALSE(ParseScriptSyntax("PowerShell"));
  EXPECT_FALSE(ParseScriptSyntax("CSharp"));
  EXPECT_FALSE(ParseScriptSyntax(""));
}

// ---------------------------------------------------------------------------------------------
// The process: output, exit code, environment, stop and timeout (bash)

TEST(StepRunnerTest, StreamsStdoutAndStderrAndReturnsTheExitCode) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir, "echo hello; echo oops >&2; pwd; exit 3"), c);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.succeeded());
  ASSERT_GE(c.lines.size(), 3u);
  EXPECT_EQ(c.lines[0], Line(LogCategory::kInfo, "hello"));
  EXPECT_TRUE(c.Has(LogCategory::kError, "oops"));
  EXPECT_TRUE(r.wrote_to_stderr);
  EXPECT_TRUE(c.Has(LogCategory::kInfo, fs::canonical(dir.Sub("work")).string()))
      << "runs in its own working directory";
}

TEST(StepRunnerTest, StopKillsTheWholeProcessGroupQuickly) {
  testing::TempDir dir;
  Captured c;
  auto cb = c.Callbacks();
  std::atomic<bool> stop{false};
  cb.should_stop = [&]() -> std::string { return stop ? "canceled" : ""; };
  cb.on_line = [&](LogCategory, std::string_view l) {
    if (l == "started") stop = true;
  };
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunStep(In(dir, "sleep 600 & echo started; sleep 600"), cb);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->killed_reason, "canceled");
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->succeeded());
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(StepRunnerTest, TheTimeoutKillsTheScriptOnTheInjectedClock) {
  testing::TempDir dir;
  testing::FakeClock clock;
  Captured c;
  c.on_text = [&](std::string_view l) {
    if (l == "started") clock.Advance(std::chrono::milliseconds(1001));
  };
  auto s = In(dir, "echo started; sleep 600");
  s.timeout = std::chrono::milliseconds(1000);
  s.clock = &clock;
  auto t0 = std::chrono::steady_clock::now();
  auto r = MustRun(s, c);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.killed_reason, "The script did not finish within 1000 ms and was stopped.");
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST(StepRunnerTest, AScriptWithinItsTimeoutIsNotStopped) {
  testing::TempDir dir;
  testing::FakeClock clock;
  Captured c;
  c.on_text = [&](std::string_view) { clock.Advance(std::chrono::milliseconds(999)); };
  auto s = In(dir, "echo one");
  s.timeout = std::chrono::milliseconds(1000);
  s.clock = &clock;
  auto r = MustRun(s, c);
  EXPECT_TRUE(r.succeeded());
  EXPECT_FALSE(r.timed_out);
}

// Bug (issue 9 #5): a script inherited the node's environment, so `env` printed the master key.
TEST(StepRunnerTest, TheScriptSeesNoneOfTheNodesSettings) {
  ::setenv("CUTTLE_MASTER_KEY", "bWFzdGVyLWtleS1zZWNyZXQ=", 1);
  ::setenv("CUTTLE_DATABASE", "postgresql://cuttle:db-password@db/cuttle", 1);
  testing::TempDir dir;
  Captured c;
  auto s = In(dir, "env");
  s.env = {{"OCTOPUS_TASK_ID", "ServerTasks-9"}};
  auto r = MustRun(s, c);
  ::unsetenv("CUTTLE_MASTER_KEY");
  ::unsetenv("CUTTLE_DATABASE");
  std::string all = c.All();
  EXPECT_EQ(all.find("bWFzdGVyLWtleS1zZWNyZXQ="), std::string::npos) << all;
  EXPECT_EQ(all.find("db-password"), std::string::npos) << all;
  EXPECT_EQ(all.find("CUTTLE_"), std::string::npos) << all;
  EXPECT_NE(all.find("OCTOPUS_TASK_ID=ServerTasks-9"), std::string::npos) << all;
  EXPECT_NE(all.find("PATH="), std::string::npos) << all;
}

TEST(StepRunnerTest, TheScriptInheritsNoDescriptorButItsStandardStreams) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir, "ls /proc/self/fd | sort -n | tr '\\n' ' '");
  s.variables.Set("Password", "hunter2", true);
  ASSERT_TRUE(MustRun(s, c).succeeded()) << c.All();
  // 0-2, and the descriptor `ls` opened to list them; not the variables' descriptor 3 (closed by
  // the bootstrap) nor any of the node's.
  EXPECT_EQ(c.At(LogCategory::kInfo), std::vector<std::string>{"0 1 2 3 "}) << c.All();
  Captured direct;
  ASSERT_TRUE(MustRun(In(dir, "[ -e /dev/fd/3 ] && echo open || echo closed"), direct).succeeded());
  EXPECT_EQ(direct.At(LogCategory::kInfo), std::vector<std::string>{"closed"}) << direct.All();
}

// The node ignores SIGPIPE (a write to a closed socket must not end it); its scripts must not
// inherit that: `yes | head` would then have `yes` fail on EPIPE instead of ending quietly.
TEST(StepRunnerTest, TheScriptGetsDefaultSignalActionsNotTheNodes) {
  auto* before = ::signal(SIGPIPE, SIG_IGN);
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir, "yes | head -n 1 >/dev/null; echo \"${PIPESTATUS[0]}\""), c);
  ::signal(SIGPIPE, before);
  EXPECT_TRUE(r.succeeded()) << c.All();
  EXPECT_EQ(c.At(LogCategory::kInfo), std::vector<std::string>{"141"}) << c.All();
  EXPECT_TRUE(c.At(LogCategory::kError).empty()) << c.All();
}

// Bug (issue 9 #6): one endless output line was held whole in memory.
TEST(StepRunnerTest, AnEndlessLineReachesTheLogInBoundedPieces) {
  testing::TempDir dir;
  Captured c;
  MustRun(In(dir, "head -c 1000000 /dev/zero | tr '\\0' x; echo; echo done"), c);
  size_t bytes = 0;
  for (auto& [cat, text] : c.lines) {
    EXPECT_LE(text.size(), LineSplitter::kMaxLine);
    if (text != "done") bytes += text.size();
  }
  EXPECT_EQ(bytes, 1000000u);
  EXPECT_EQ(c.lines.back().second, "done");
}

// ---------------------------------------------------------------------------------------------
// The working folder

TEST(StepRunnerTest, TheRunnersFilesArePrivateAndGoneAfterwardsWhileTheScriptsOwnStay) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir, "ls -A | sort | tr '\\n' ' '; echo; stat -c %a script.sh; echo kept > out.txt");
  s.variables.Set("Password", "hunter2", true);
  auto r = MustRun(s, c);
  ASSERT_TRUE(r.succeeded()) << c.All();
  EXPECT_EQ(c.At(LogCategory::kInfo), (std::vector<std::string>{"script.sh ", "600"}))
      << "the variables are never in the folder";
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(s.work_dir)) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"out.txt"});
  // A second run in the same folder (a retried step) finds it free.
  Captured again;
  EXPECT_TRUE(MustRun(s, again).succeeded());
}

TEST(StepRunnerTest, APlantedRunnersFileIsRefusedNotFollowed) {
  testing::TempDir dir;
  auto s = In(dir, "echo never", ScriptSyntax::kPython);
  { std::ofstream(dir.Sub("target")) << "precious"; }
  fs::create_symlink(dir.Sub("target"), s.work_dir + "/bootstrap.py");
  auto r = RunStep(s, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("cannot create bootstrap.py"), std::string::npos)
      << r.error().message();
  std::ifstream in(dir.Sub("target"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious");
  EXPECT_FALSE(fs::exists(s.work_dir + "/script.py")) << "what was written is removed";
}

TEST(StepRunnerTest, AMissingWorkingFolderIsAnError) {
  testing::TempDir dir;
  StepScript s;
  s.body = "echo never";
  s.work_dir = dir.Sub("absent");
  auto r = RunStep(s, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("cannot open the working folder"), std::string::npos);
}

TEST(StepRunnerTest, TheSubstituteCallbackRewritesTheBodyAndNoneLeavesItAsWritten) {
  testing::TempDir dir;
  auto s = In(dir, "echo '#{Greeting}'");
  Captured plain;
  MustRun(s, plain);
  EXPECT_EQ(plain.At(LogCategory::kInfo), std::vector<std::string>{"#{Greeting}"});
  s.substitute = [](std::string_view body) {
    std::string out(body);
    out.replace(out.find("#{Greeting}"), 11, "hello");
    return out;
  };
  Captured substituted;
  MustRun(s, substituted);
  EXPECT_EQ(substituted.At(LogCategory::kInfo), std::vector<std::string>{"hello"});
}

// ---------------------------------------------------------------------------------------------
// The bash helpers

TEST(BashHelpersTest, OctopusParametersHoldsEveryVariableExactly) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir,
              "set -euo pipefail\n"
              "for k in \"${!octopus_parameters[@]}\"; do\n"
              "  set_octopusvariable \"$k\" \"${octopus_parameters[$k]}\"\n"
              "done\n"
              "echo \"count=${#octopus_parameters[@]}\"\n");
  s.variables = Awkward();
  auto r = MustRun(s, c);
  ASSERT_TRUE(r.succeeded()) << c.All();
  EXPECT_EQ(OutputsAsMap(r), AsMap(s.variables));
  EXPECT_EQ(c.At(LogCategory::kInfo), std::vector<std::string>{"count=16"});
  EXPECT_EQ(c.All().find("injected"), std::string::npos) << "nothing in a value was evaluated";
}

TEST(BashHelpersTest, GetOctopusVariablePrintsTheValueAndEmptyForUnknownNames) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir,
              "set -u\n"
              "get_octopusvariable Octopus.Environment.Name\n"
              "get_octopusvariable EchoOption\n"
              "get_octopusvariable 'Octopus.Action[Step 1].Output.Result'\n"
              "get_octopusvariable octopus.environment.name\n"  // exact names, as in Octopus
              "get_octopusvariable Missing\n"
              "get_octopusvariable\n"
              "get_octopusvariable Multi.Line\n"
              "echo \"[$(get_octopusvariable Dollars)]\"\n");
  s.variables = Awkward();
  auto r = MustRun(s, c);
  ASSERT_TRUE(r.succeeded()) << c.All();
  EXPECT_EQ(c.At(LogCategory::kInfo),
            (std::vector<std::string>{
                "Production", "-n", "bracketed", "", "", "", "line one", "line two", "", "",
                "[$HOME ${PATH} $(echo injected) `echo injected` $((1+1)) \\$]"}));
}

TEST(BashHelpersTest, SetOctopusVariableGivesOutputsInOrderAndTheLastValueWins) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir,
                      "set_octopusvariable First one\n"
                      "set_octopusvariable Second two\n"
                      "set_octopusvariable first 'one again'\n"
                      "set_octopusvariable Blank ''\n"
                      "set_octopusvariable '' ignored\n"),
                   c);
  ASSERT_EQ(r.output_variables.size(), 3u);
  EXPECT_EQ(r.output_variables[0].name, "First");
  EXPECT_EQ(r.output_variables[0].value, "one again");
  EXPECT_EQ(r.output_variables[1].name, "Second");
  EXPECT_EQ(r.output_variables[2].name, "Blank");
  EXPECT_EQ(r.output_variables[2].value, "");
  EXPECT_TRUE(c.lines.empty()) << "service messages are not shown: " << c.All();
}

TEST(BashHelpersTest, ASensitiveOutputVariableIsMaskedFromThenOn) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir,
                      "echo 'before: hunter2'\n"
                      "set_octopusvariable Password hunter2 -sensitive\n"
                      "echo 'after: hunter2'\n"
                      "echo 'stderr: hunter2' >&2\n"),
                   c);
  ASSERT_EQ(r.output_variables.size(), 1u);
  EXPECT_EQ(r.output_variables[0].value, "hunter2") << "the value itself is data, not masked";
  EXPECT_TRUE(r.output_variables[0].sensitive);
  EXPECT_TRUE(c.Has(LogCategory::kInfo, "before: hunter2")) << "unknown as a secret until set";
  EXPECT_TRUE(c.Has(LogCategory::kInfo, "after: ********"));
  EXPECT_TRUE(c.Has(LogCategory::kError, "stderr: ********"));
}

TEST(BashHelpersTest, NewOctopusArtifactAsksForTheFileWithItsLength) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir,
                      "echo data > report.txt\n"
                      "new_octopusartifact report.txt summary.txt\n"
                      "new_octopusartifact report.txt\n"
                      "new_octopusartifact missing.txt || echo refused\n"),
                   c);
  ASSERT_EQ(r.artifacts.size(), 2u);
  std::string full = fs::canonical(dir.Sub("work")).string() + "/report.txt";
  EXPECT_EQ(r.artifacts[0].path, full);
  EXPECT_EQ(r.artifacts[0].name, "summary.txt");
  EXPECT_EQ(r.artifacts[0].length, 5) << "the declared length";
  EXPECT_EQ(r.artifacts[1].name, "report.txt") << "the file's name by default";
  EXPECT_TRUE(c.Has(LogCategory::kInfo, "refused"));
  EXPECT_TRUE(
      c.Has(LogCategory::kError, "There is no file at 'missing.txt' to collect as an artifact."));
}

TEST(BashHelpersTest, FailStepGivesTheResultMessageAndExitsOne) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir, "fail_step 'the database is unreachable'\necho never"), c);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.result_message, "the database is unreachable");
  EXPECT_TRUE(c.lines.empty());
  Captured bare;
  auto quiet = MustRun(In(dir, "set -u\nfail_step"), bare);
  EXPECT_EQ(quiet.exit_code, 1);
  EXPECT_EQ(quiet.result_message, "");
}

TEST(BashHelpersTest, UpdateProgressReportsEachAndKeepsTheLast) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir,
                      "update_progress 10 'starting up'\n"
                      "update_progress 150 'over the top'\n"
                      "update_progress 50 'half way'\n"),
                   c);
  EXPECT_EQ(c.progress, (std::vector<std::pair<int, std::string>>{
                            {10, "starting up"}, {100, "over the top"}, {50, "half way"}}));
  ASSERT_TRUE(r.progress);
  EXPECT_EQ(r.progress->percentage, 50);
  EXPECT_EQ(r.progress->message, "half way");
}

TEST(BashHelpersTest, WriteHelpersSetTheLevelOfTheirLineOnly) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir,
                      "write_verbose quiet\nwrite_highlight big\nwrite_wait waiting\n"
                      "write_warning careful\nwrite_error bad\necho plain\n"
                      "write_verbose '-n'\nwrite_warning 'two  spaces *'\n"),
                   c);
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(c.lines, (std::vector<Line>{{LogCategory::kVerbose, "quiet"},
                                        {LogCategory::kHighlight, "big"},
                                        {LogCategory::kWait, "waiting"},
                                        {LogCategory::kWarning, "careful"},
                                        {LogCategory::kError, "bad"},
                                        {LogCategory::kInfo, "plain"},
                                        {LogCategory::kVerbose, "-n"},
                                        {LogCategory::kWarning, "two  spaces *"}}));
}

TEST(BashHelpersTest, EncodeAndDecodeServiceMessageValuesAreBase64) {
  testing::TempDir dir;
  Captured c;
  MustRun(In(dir,
             "encode_servicemessagevalue 'ünï -n'; echo\n"
             "decode_servicemessagevalue \"$(encode_servicemessagevalue 'round trip ✓')\"; echo\n"),
          c);
  EXPECT_EQ(c.At(LogCategory::kInfo), (std::vector<std::string>{"w7xuw68gLW4=", "round trip ✓"}));
}

TEST(BashHelpersTest, MaskSensitiveValueMasksOnBothStreamsFromThenOn) {
  testing::TempDir dir;
  Captured c;
  MustRun(In(dir,
             "echo 'token tok-123 shown'\n"
             "__mask_sensitive_value tok-123\n"
             "echo 'token tok-123 hidden'\n"
             "echo 'stderr tok-123' >&2\n"),
          c);
  EXPECT_EQ(c.lines, (std::vector<Line>{{LogCategory::kInfo, "token tok-123 shown"},
                                        {LogCategory::kInfo, "token ******** hidden"},
                                        {LogCategory::kError, "stderr ********"}}));
}

TEST(BashHelpersTest, AMaskMessageOnStderrIsNotErrorOutput) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir, "__mask_sensitive_value quiet-secret\necho fine\n"), c);
  EXPECT_FALSE(r.wrote_to_stderr);
  EXPECT_EQ(c.lines, (std::vector<Line>{{LogCategory::kInfo, "fine"}}));
}

// ---------------------------------------------------------------------------------------------
// Service messages by hand, and masking

TEST(ServiceMessagesInAStepTest, EveryMessageWrittenByHandIsActedOnAndHidden) {
  testing::TempDir dir;
  auto line = [](std::string_view name,
                 std::vector<std::pair<std::string, std::string>> attributes) {
    return "echo \"" + FormatServiceMessage(name, attributes) + "\"\n";
  };
  std::string body =
      line("setVariable", {{"name", "Out"}, {"value", "plain"}}) +
      line("setVariable", {{"Name", "Key"}, {"Value", "k-9"}, {"Sensitive", "true"}}) +
      line("createArtifact", {{"path", "/tmp/x/a.log"}}) +
      line("createArtifact", {{"path", "b.log"}, {"name", "B"}, {"length", "x"}}) +
      line("resultMessage", {{"message", "first"}}) +
      line("resultMessage", {{"message", "why it failed"}}) +
      line("progress", {{"percentage", "33"}, {"message", "a third"}}) +
      line("progress", {{"percentage", "lots"}, {"message", "ignored"}}) +
      line("mask", {{"value", "hide-me"}}) + line("set-environmentstate", {{"key", "k"}}) +
      "echo '##octopus[stdout-error]'\necho 'now an error hide-me k-9'\n"
      "echo '##octopus[stdout-default]'\necho back\nexit 2\n";
  Captured c;
  auto r = MustRun(In(dir, body), c);
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.output_variables.size(), 2u);
  EXPECT_FALSE(r.output_variables[0].sensitive);
  EXPECT_EQ(r.output_variables[1].name, "Key");
  EXPECT_EQ(r.output_variables[1].value, "k-9");
  EXPECT_TRUE(r.output_variables[1].sensitive);
  ASSERT_EQ(r.artifacts.size(), 2u);
  EXPECT_EQ(r.artifacts[0].name, "a.log");
  EXPECT_FALSE(r.artifacts[0].length);
  EXPECT_EQ(r.artifacts[1].name, "B");
  EXPECT_FALSE(r.artifacts[1].length) << "a length that is not a number";
  EXPECT_EQ(r.result_message, "why it failed");
  ASSERT_TRUE(r.progress);
  EXPECT_EQ(r.progress->percentage, 33);
  EXPECT_EQ(c.lines, (std::vector<Line>{{LogCategory::kError, "now an error ******** ********"},
                                        {LogCategory::kInfo, "back"}}));
}

TEST(ServiceMessagesInAStepTest, SensitiveVariablesAreMaskedEverywhereTheStepReports) {
  testing::TempDir dir;
  auto s = In(dir,
              "echo \"the key is $(get_octopusvariable ApiKey)\"\n"
              "echo \"${octopus_parameters[ApiKey]}\" >&2\n"
              "echo 'plain is visible'\n"
              "printf 'BEGIN KEY\\nline-two-of-key\\nEND KEY\\n'\n"
              "touch report.txt\n"
              "new_octopusartifact report.txt 'report-s3cr3t-value.txt'\n"
              "update_progress 50 'using s3cr3t-value'\n"
              "fail_step 'could not log in with s3cr3t-value'\n");
  s.variables.Set("ApiKey", "s3cr3t-value", true);
  s.variables.Set("Plain", "plain", false);
  s.variables.Set("Pem", "BEGIN KEY\nline-two-of-key\nEND KEY", true);
  Captured c;
  auto r = MustRun(s, c);
  // stdout and stderr are separate pipes: only the order within each is defined.
  EXPECT_EQ(c.At(LogCategory::kInfo),
            (std::vector<std::string>{"the key is ********", "plain is visible", "********",
                                      "********", "********"}))
      << c.All();
  EXPECT_EQ(c.At(LogCategory::kError), std::vector<std::string>{"********"});
  ASSERT_EQ(r.artifacts.size(), 1u);
  EXPECT_EQ(r.artifacts[0].name, "report-********.txt");
  EXPECT_EQ(r.progress->message, "using ********");
  EXPECT_EQ(c.progress[0].second, "using ********");
  EXPECT_EQ(r.result_message, "could not log in with ********");
}

TEST(ServiceMessagesInAStepTest, AServiceMessageLongerThanALinePieceIsDroppedWhole) {
  testing::TempDir dir;
  Captured c;
  auto r = MustRun(In(dir,
                      "big=$(head -c 60000 /dev/zero | tr '\\0' s)\n"
                      "set_octopusvariable Big \"$big\" -sensitive\n"
                      "echo after\n"),
                   c);
  EXPECT_TRUE(r.output_variables.empty());
  EXPECT_EQ(c.lines, (std::vector<Line>{{LogCategory::kError,
                                         "A service message longer than 65536 bytes was ignored."},
                                        {LogCategory::kInfo, "after"}}))
      << "no piece of its base64 reaches the log";
}

TEST(ServiceMessagesInAStepTest, OutputsAndArtifactsPastTheirLimitsAreCounted) {
  testing::TempDir dir;
  auto s = In(dir,
              "touch f\n"
              "for i in 1 2 3 4 5; do set_octopusvariable \"V$i\" $i; new_octopusartifact f; done\n"
              "set_octopusvariable V1 again\n");
  s.max_artifacts = 2;
  s.max_output_variables = 3;
  Captured c;
  auto r = MustRun(s, c);
  EXPECT_EQ(r.artifacts.size(), 2u);
  EXPECT_EQ(r.refused_artifacts, 3u);
  ASSERT_EQ(r.output_variables.size(), 3u);
  EXPECT_EQ(r.refused_output_variables, 2u);
  EXPECT_EQ(r.output_variables[0].value, "again") << "a known name is still updated";
}

// ---------------------------------------------------------------------------------------------
// Python

TEST(PythonHelpersTest, OctopusVariablesHoldsEveryVariableExactly) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir,
              "for name, value in octopusvariables.items():\n"
              "    set_octopusvariable(name, get_octopusvariable(name))\n"
              "print('count=%d' % len(octopusvariables))\n"
              "print('[%s]' % get_octopusvariable('Missing'))\n"
              "print(get_octopusvariable('Unicode'))\n",
              ScriptSyntax::kPython);
  s.variables = Awkward();
  auto r = MustRun(s, c);
  ASSERT_TRUE(r.succeeded()) << c.All();
  EXPECT_EQ(OutputsAsMap(r), AsMap(s.variables));
  EXPECT_EQ(c.At(LogCategory::kInfo),
            (std::vector<std::string>{"count=16", "[]", "ünïcødé ✓ 日本語 🚀"}));
}

TEST(PythonHelpersTest, EveryHelperSpeaksTheSameMessages) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir,
              "import os\n"
              "set_octopusvariable('Plain', 'value')\n"
              "set_octopusvariable('Token', 'py-secret', True)\n"
              "print('token py-secret')\n"
              "assert octopusvariables['Token'] == 'py-secret'\n"
              "with open('report.txt', 'w') as f:\n"
              "    f.write('12345678')\n"
              "createartifact('report.txt', 'summary.txt')\n"
              "createartifact('report.txt')\n"
              "updateprogress(40, 'forty')\n"
              "printverbose('quiet')\n"
              "printhighlight('big')\n"
              "printwait('waiting')\n"
              "printwarning('careful')\n"
              "print(decode(encode('round ✓')))\n"
              "print(__name__)\n"
              "failstep('python gave up')\n"
              "print('never')\n",
              ScriptSyntax::kPython);
  auto r = MustRun(s, c);
  EXPECT_EQ(r.exit_code, 255) << c.All();
  EXPECT_EQ(r.result_message, "python gave up");
  ASSERT_EQ(r.output_variables.size(), 2u);
  EXPECT_EQ(r.output_variables[0].name, "Plain");
  EXPECT_FALSE(r.output_variables[0].sensitive);
  EXPECT_TRUE(r.output_variables[1].sensitive);
  ASSERT_EQ(r.artifacts.size(), 2u);
  EXPECT_EQ(r.artifacts[0].path, fs::canonical(dir.Sub("work")).string() + "/report.txt");
  EXPECT_EQ(r.artifacts[0].name, "summary.txt");
  EXPECT_EQ(r.artifacts[0].length, 8);
  EXPECT_EQ(r.artifacts[1].name, "report.txt");
  EXPECT_EQ(c.progress, (std::vector<std::pair<int, std::string>>{{40, "forty"}}));
  EXPECT_EQ(c.lines, (std::vector<Line>{{LogCategory::kInfo, "token ********"},
                                        {LogCategory::kVerbose, "quiet"},
                                        {LogCategory::kHighlight, "big"},
                                        {LogCategory::kWait, "waiting"},
                                        {LogCategory::kWarning, "careful"},
                                        {LogCategory::kInfo, "round ✓"},
                                        {LogCategory::kInfo, "__main__"}}));
}

TEST(PythonHelpersTest, AnExceptionFailsTheStepWithItsTracebackOnStderrMasked) {
  testing::TempDir dir;
  Captured c;
  auto s = In(dir, "raise RuntimeError('bad ' + get_octopusvariable('Password'))\n",
              ScriptSyntax::kPython);
  s.variables.Set("Password", "pw-42", true);
  auto r = MustRun(s, c);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(c.Has(LogCategory::kError, "RuntimeError: bad ********")) << c.All();
  EXPECT_EQ(c.All().find("pw-42"), std::string::npos);
}

TEST(PythonHelpersTest, ModulesNextToTheScriptImportAndTheFolderIsCleanAfterwards) {
  testing::TempDir dir;
  auto s = In(dir, "import helper\nprint(helper.VALUE)\n", ScriptSyntax::kPython);
  { std::ofstream(s.work_dir + "/helper.py") << "VALUE = 'from the module'\n"; }
  Captured c;
  auto r = MustRun(s, c);
  EXPECT_TRUE(r.succeeded()) << c.All();
  EXPECT_EQ(c.At(LogCategory::kInfo), std::vector<std::string>{"from the module"});
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(s.work_dir)) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"helper.py"}) << "no bytecode, no runner files";
}

TEST(PythonHelpersTest, CancelStopsAPythonScript) {
  testing::TempDir dir;
  Captured c;
  auto cb = c.Callbacks();
  std::atomic<bool> stop{false};
  cb.on_line = [&](LogCategory, std::string_view l) {
    if (l == "started") stop = true;
  };
  cb.should_stop = [&]() -> std::string { return stop ? "canceled" : ""; };
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunStep(
      In(dir, "import time\nprint('started')\ntime.sleep(600)\n", ScriptSyntax::kPython), cb);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->killed_reason, "canceled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(PythonHelpersTest, NoPython3OnThePathIsAnError) {
  testing::TempDir dir;
  auto s = In(dir, "print('never')\n", ScriptSyntax::kPython);
  s.env["PATH"] = dir.Sub("empty-bin");
  auto r = RunStep(s, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "python3 was not found on the script's PATH");
  EXPECT_TRUE(fs::is_empty(s.work_dir));
}

}  // namespace
}  // namespace cuttle::engine
