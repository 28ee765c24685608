// Bug (issue 9 #5): scripts inherited the node's whole environment, so `env` in an ad-hoc script
// printed CUTTLE_MASTER_KEY (and a database password) into a task log every key holder can read.
#include "engine/script_env.h"

#include <gtest/gtest.h>

#include <map>

namespace cuttle::engine {
namespace {

EnvLookup Fake(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ScriptEnvTest, OnlyTheAllowListAndTheStepsVariablesReachTheScript) {
  auto node = Fake({{"PATH", "/opt/bin:/usr/bin"},
                    {"HOME", "/var/lib/cuttle"},
                    {"LANG", "C.UTF-8"},
                    {"TMPDIR", "/var/tmp"},
                    {"CUTTLE_MASTER_KEY", "c2VjcmV0"},
                    {"CUTTLE_DATABASE", "postgresql://cuttle:pw@db/cuttle"},
                    {"PGPASSWORD", "pw"},
                    {"LD_PRELOAD", "/tmp/evil.so"}});
  auto env = ScriptEnvironment({{"OCTOPUS_TASK_ID", "ServerTasks-7"}}, node);
  EXPECT_EQ(env, (std::vector<std::string>{"HOME=/var/lib/cuttle", "LANG=C.UTF-8",
                                           "OCTOPUS_TASK_ID=ServerTasks-7",
                                           "PATH=/opt/bin:/usr/bin", "TMPDIR=/var/tmp"}));
}

TEST(ScriptEnvTest, ANodeWithoutPathGivesTheScriptAStandardOne) {
  auto env = ScriptEnvironment({}, Fake({}));
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=" + std::string(kDefaultPath)}));
}

}  // namespace
}  // namespace cuttle::engine
