// The CLI's contract: every bad argument is one line on stderr and exit status 2.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "agent/runner.h"
#include "testing/temp_dir.h"

namespace cuttle::agent {
namespace {

struct Ran {
  int status = -1;
  std::string err;
};

Ran RunAgent(const std::string& args) {
  testing::TempDir tmp;
  const std::string err_path = tmp.Sub("stderr");
  const std::string cmd =
      std::string(CUTTLE_AGENT_BINARY) + " " + args + " >/dev/null 2>" + err_path;
  int rc = std::system(cmd.c_str());
  Ran r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  FILE* f = std::fopen(err_path.c_str(), "r");
  if (f != nullptr) {
    std::array<char, 4096> buf{};
    size_t n = std::fread(buf.data(), 1, buf.size(), f);
    r.err.assign(buf.data(), n);
    std::fclose(f);
  }
  return r;
}

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(CliTest, BadArgumentsAreOneLineAndExitTwo) {
  const std::string reg =
      "register --server http://127.0.0.1:1 --api-key K --name web-01 --home /tmp/cuttle-cli-x";
  for (const std::string& args : {
           std::string(""),
           std::string("bogus"),
           std::string("run"),
           std::string("run --home"),
           std::string("run --home /tmp/x --unknown"),
           std::string("show"),
           std::string("deregister --home /tmp/x extra"),
           reg + " --role web",                // no environment
           reg + " --environment Production",  // no role
           std::string("register --api-key K --name n --environment E --role r --home /tmp/x"),
           reg + " --environment Production --role web --name ''",
           reg + " --environment '' --role web",
           std::string("register --server ftp://host --api-key K --name n --environment E "
                       "--role r --home /tmp/x"),
           std::string("register --server http://127.0.0.1:1 --api-key '' --name n --environment E "
                       "--role r --home /tmp/x"),
           std::string("register --server '' --api-key K --name n --environment E --role r "
                       "--home /tmp/x"),
           std::string("run --home ''"),
           std::string("exec --home /tmp/x"),
           std::string("run --home /tmp/x --max-spool-bytes 0"),
           std::string("run --home /tmp/x --max-spool-bytes -5"),
           std::string("run --home /tmp/x --max-spool-bytes lots"),
           std::string("run --home /tmp/x --max-spool-bytes 1T"),
           std::string("run --home /tmp/x --max-spool-bytes ''"),
           std::string("run --home /tmp/x --max-spool-bytes 99999999999999999999"),
           std::string("run --home /tmp/x --artifact-piece-bytes 0"),
           std::string("run --home /tmp/x --artifact-piece-bytes 17M"),
           std::string("run --home /tmp/x --artifact-piece-bytes many"),
       }) {
    Ran r = RunAgent(args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.err;
    EXPECT_EQ(Lines(r.err), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("cuttle-agent: ", 0), 0u) << args << ": " << r.err;
  }
}

TEST(CliTest, ParsesASpoolCap) {
  EXPECT_EQ(ParseByteSize("1G", "--max-spool-bytes").value(), uint64_t{1} << 30);
  EXPECT_EQ(ParseByteSize("512m", "--max-spool-bytes").value(), uint64_t{512} << 20);
  EXPECT_EQ(ParseByteSize("64K", "--max-spool-bytes").value(), uint64_t{64} << 10);
  EXPECT_EQ(ParseByteSize("1000", "--max-spool-bytes").value(), 1000u);
  auto bad = ParseByteSize("0", "--max-spool-bytes");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("--max-spool-bytes"), std::string::npos);
  // A good value is taken: the run goes on to find no registration (1, not 2).
  testing::TempDir tmp;
  EXPECT_EQ(RunAgent("run --max-spool-bytes 10M --home " + tmp.Sub("home")).status, 1);
  EXPECT_EQ(RunAgent("run --artifact-piece-bytes 16M --home " + tmp.Sub("home")).status, 1);
}

TEST(CliTest, HelpAndVersionExitZero) {
  EXPECT_EQ(RunAgent("--help").status, 0);
  EXPECT_EQ(RunAgent("version").status, 0);
}

TEST(CliTest, AnUnregisteredHomeIsAFailureNotAUsageError) {
  testing::TempDir tmp;
  Ran r = RunAgent("run --home " + tmp.Sub("home"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("register this agent first"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cuttle::agent
