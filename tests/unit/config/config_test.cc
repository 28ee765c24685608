#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace cuttle::config {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string WriteToml(const testing::TempDir& dir, const std::string& text) {
  std::string path = dir.Sub("cuttle.toml");
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsMatchTheDesign) {
  auto o = Load({}, Env({}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->listen(), "127.0.0.1:8080");
  EXPECT_EQ(o->database_url, "sqlite://./cuttle-data/cuttle.db");
  EXPECT_EQ(o->packages_dir, "./cuttle-data/packages");
  EXPECT_EQ(o->artifacts_dir, "./cuttle-data/artifacts");
  EXPECT_EQ(o->tasklogs_dir, "./cuttle-data/tasklogs");
  EXPECT_EQ(o->default_master_key_file, "./cuttle-data/master.key");
  EXPECT_EQ(o->task_cap, 5);
  EXPECT_EQ(o->heartbeat_ms, 1000);
  EXPECT_EQ(o->node_timeout_ms, 5000);
  EXPECT_FALSE(o->node_name.empty());
}

TEST(ConfigTest, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  testing::TempDir dir;
  auto path = WriteToml(dir,
                        "[node]\nname = \"from-file\"\ntask_cap = 7\n"
                        "[server]\nlisten = \"127.0.0.1:9001\"\n"
                        "[cluster]\nheartbeat_ms = 300\n");
  auto o = Load({{"config", path}, {"node.name", "from-flag"}},
                Env({{"CUTTLE_NODE_NAME", "from-env"}, {"CUTTLE_TASK_CAP", "9"}}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->node_name, "from-flag");
  EXPECT_EQ(o->task_cap, 9);        // env over file
  EXPECT_EQ(o->listen_port, 9001);  // file over default
  EXPECT_EQ(o->heartbeat_ms, 300);
}

TEST(ConfigTest, SharedDirMovesEveryDefaultRootButExplicitRootsWin) {
  auto o =
      Load({{"storage.shared_dir", "/mnt/share"}, {"storage.tasklogs_dir", "/fast/logs"}}, Env({}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->packages_dir, "/mnt/share/packages");
  EXPECT_EQ(o->tasklogs_dir, "/fast/logs");
  EXPECT_EQ(o->database_url, "sqlite:///mnt/share/cuttle.db");
}

TEST(ConfigTest, UnknownTomlKeyIsNamed) {
  testing::TempDir dir;
  auto path = WriteToml(dir, "[node]\nnmae = \"x\"\n");
  auto o = Load({{"config", path}}, Env({}));
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(o.error().message().find("unknown configuration key 'node.nmae'"), std::string::npos)
      << o.error().message();
}

TEST(ConfigTest, UnreadableFileIsNamed) {
  auto o = Load({{"config", "/nonexistent/cuttle.toml"}}, Env({}));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message().find("/nonexistent/cuttle.toml"), std::string::npos);
  EXPECT_NE(o.error().message().find("No such file"), std::string::npos);
}

TEST(ConfigTest, MalformedTomlNamesTheLine) {
  testing::TempDir dir;
  auto path = WriteToml(dir, "[node]\nname = \n");
  auto o = Load({{"config", path}}, Env({}));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message().find("line 2"), std::string::npos) << o.error().message();
}

struct BadValue {
  std::string key;
  std::string value;
  std::string expected_fragment;
};

class ConfigBadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValueTest, NamesKeyValueAndExpectation) {
  const auto& p = GetParam();
  auto o = Load({{p.key, p.value}}, Env({}));
  ASSERT_FALSE(o) << p.key;
  const auto& m = o.error().message();
  EXPECT_EQ(o.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(m.find(p.key), std::string::npos) << m;
  EXPECT_NE(m.find("'" + p.value + "'"), std::string::npos) << m;
  EXPECT_NE(m.find(p.expected_fragment), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigBadValueTest,
    ::testing::Values(BadValue{"server.listen", "localhost", "HOST:PORT"},
                      BadValue{"server.listen", "127.0.0.1:99999", "PORT 0-65535"},
                      BadValue{"database.url", "mysql://db", "sqlite://PATH or postgresql://"},
                      BadValue{"database.url", "sqlite://", "sqlite://PATH"},
                      BadValue{"node.task_cap", "1001", "from 0 to 1000"},
                      BadValue{"node.task_cap", "-1", "from 0 to 1000"},
                      BadValue{"node.task_cap", "five", "from 0 to 1000"},
                      BadValue{"cluster.heartbeat_ms", "0", "from 50"},
                      BadValue{"node.name", "bad name!", "letters, digits"},
                      BadValue{"bootstrap.admin_api_key", "API-short", "26 upper-case"}));

TEST(ConfigTest, TimeoutMustCoverTwoHeartbeats) {
  auto o = Load({{"cluster.heartbeat_ms", "1000"}, {"cluster.node_timeout_ms", "1500"}}, Env({}));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message().find("cluster.node_timeout_ms"), std::string::npos);
}

// --admin-api-key shows the key to every local user in `ps`: the file form keeps it out of the
// command line, and is validated like the direct value without echoing what the file holds.
TEST(ConfigTest, AdminApiKeyFileIsReadAndValidated) {
  testing::TempDir dir;
  const std::string key = "API-FROMAFILE00000000000000000001";
  std::ofstream(dir.Sub("admin.key")) << key << "\n";
  auto o = Load({}, Env({{"CUTTLE_ADMIN_API_KEY_FILE", dir.Sub("admin.key")}}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->admin_api_key, key);
  EXPECT_EQ(o->admin_api_key_file, dir.Sub("admin.key"));

  std::ofstream(dir.Sub("wrong.key")) << "root:secret-hash:19000::::::\n";
  auto bad = Load({{"bootstrap.admin_api_key_file", dir.Sub("wrong.key")}}, Env({}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("bootstrap.admin_api_key_file"), std::string::npos);
  EXPECT_EQ(bad.error().message().find("secret-hash"), std::string::npos) << "not echoed";

  auto missing = Load({{"bootstrap.admin_api_key_file", dir.Sub("nope")}}, Env({}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("cannot read"), std::string::npos);

  auto both = Load(
      {{"bootstrap.admin_api_key", key}, {"bootstrap.admin_api_key_file", dir.Sub("admin.key")}},
      Env({}));
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("not both"), std::string::npos);
}

TEST(ConfigTest, AdminApiKeyFileRefusesAHugeFile) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("big")) << std::string(100'000, 'A');
  auto o = Load({{"bootstrap.admin_api_key_file", dir.Sub("big")}}, Env({}));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message().find("more than 4096 bytes"), std::string::npos)
      << o.error().message();
}

TEST(ConfigTest, StandardInputServesOneSecretOnly) {
  auto o =
      Load({{"security.master_key_file", "-"}, {"bootstrap.admin_api_key_file", "-"}}, Env({}));
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message().find("standard input"), std::string::npos);
}

// Issue 9 #4 and #7: scripts' working folders moved out of /tmp into a setting of their own, and
// artifacts got a size limit.
TEST(ConfigTest, WorkDirIsThisNodesOwnAndArtifactsHaveALimit) {
  auto o = Load({{"node.name", "n1"}, {"storage.shared_dir", "/srv/cuttle"}}, Env({}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->work_dir, "/srv/cuttle/work/n1");
  EXPECT_EQ(o->max_artifact_bytes, 1ULL << 30);
  o = Load({{"tasks.max_artifact_bytes", "64MiB"}},
           Env({{"CUTTLE_WORK_DIR", "/var/lib/cuttle/work"}}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->work_dir, "/var/lib/cuttle/work");
  EXPECT_EQ(o->max_artifact_bytes, 64ULL << 20);
  for (auto [key, value] : {std::pair<std::string, std::string>{"tasks.max_artifact_bytes", "lots"},
                            {"tasks.max_artifact_bytes", "0"},
                            {"tasks.work_dir", ""}}) {
    auto bad = Load({{key, value}}, Env({}));
    ASSERT_FALSE(bad) << key << "=" << value;
    EXPECT_NE(bad.error().message().find(key + ": '" + value + "' is not valid"), std::string::npos)
        << bad.error().message();
  }
}

TEST(ConfigTest, WebDirDefaultsToTheRepositoryBuild) {
  auto o = Load({}, Env({}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->web_dir, "./web/dist");  // where `make` builds it, for `make run` from the repo
  testing::TempDir dir;
  std::string file = WriteToml(dir, "[server]\nweb_dir = \"/srv/cuttle/web\"\n");
  o = Load({{"config", file}}, Env({}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->web_dir, "/srv/cuttle/web");
  o = Load({{"config", file}, {"server.web_dir", "/opt/web"}}, Env({{"CUTTLE_WEB_DIR", "/env"}}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->web_dir, "/opt/web");
  auto bad = Load({}, Env({{"CUTTLE_WEB_DIR", ""}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "server.web_dir: '' is not valid (expected a directory path)");
}

TEST(ConfigTest, HttpCapsHaveDefaultsAndAreValidated) {
  auto o = Load({}, Env({}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->max_connections, 10000);
  EXPECT_EQ(o->max_buffered_bytes, 64ULL << 20);
  EXPECT_EQ(o->max_uploads, 64);
  o = Load({{"server.max_connections", "5000"}, {"server.max_uploads", "8"}},
           Env({{"CUTTLE_MAX_BUFFERED_BYTES", "128MiB"}}));
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->max_connections, 5000);
  EXPECT_EQ(o->max_uploads, 8);
  EXPECT_EQ(o->max_buffered_bytes, 128ULL << 20);
  auto bad = Load({{"server.max_connections", "3"}}, Env({}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "server.max_connections: '3' is not valid (expected an integer from 16 to 1000000)");
  bad = Load({{"server.max_buffered_bytes", "1MiB"}}, Env({}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("server.max_buffered_bytes: '1MiB'"), std::string::npos);
  EXPECT_FALSE(Load({{"server.max_uploads", "0"}}, Env({})));
}

}  // namespace
}  // namespace cuttle::config
