// cuttle-agent: the deployment target agent (docs/agent.md). Parses the command line and runs one
// subcommand: register, run, deregister, show, and exec (the detached runner, started by run).
// Exit status: 0 done, 1 failed, 2 bad arguments, 3 not registered with the server.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "agent/home.h"
#include "agent/http_client.h"
#include "agent/runner.h"
#include "core/json.h"
#include "core/signals.h"

namespace cuttle::agent {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Die(int code, const std::string& message) {
  std::fprintf(stderr, "cuttle-agent: %s\n", message.c_str());
  return code;
}

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "cuttle-agent";
  return std::string(buf, static_cast<size_t>(n));
}

std::string Absolute(const std::string& dir) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(dir, ec);
  return ec ? dir : abs.lexically_normal().string();
}

struct RegisterArgs {
  std::string server;
  std::string api_key;
  std::string name;
  std::vector<std::string> environments;
  std::vector<std::string> roles;
  std::string space;
};

int Register(const RegisterArgs& a, const std::string& home) {
  auto split = SplitServerUrl(a.server);
  if (!split) return Die(kExitUsage, split.error().message());
  auto key = LoadKey(home, /*create=*/true);
  if (!key) return Die(kExitFailed, key.error().message());
  nlohmann::json body = {{"Name", a.name},
                         {"Environments", a.environments},
                         {"Roles", a.roles},
                         {"PublicKey", Base64(key->public_key)},
                         {"Version", CUTTLE_VERSION}};
  if (!a.space.empty()) body["SpaceId"] = a.space;
  HttpClient http(a.server);
  HttpRequest r;
  r.method = "POST";
  r.target = http.path_prefix() + std::string(agentwire::kApiPrefix) + "/register";
  r.body = body.dump();
  r.headers = {"X-Octopus-ApiKey: " + a.api_key, "Content-Type: application/json",
               "Accept: application/json"};
  auto got = http.Send(r);
  if (!got) return Die(kExitFailed, got.error().message());
  if (got->status != 200 && got->status != 201) {
    return Die(kExitFailed,
               fmt::format("registration refused (HTTP {}): {}", got->status, got->ErrorMessage()));
  }
  auto json = core::ParseJson(got->body);
  if (!json || !json->is_object()) return Die(kExitFailed, "the server's answer is not JSON");
  AgentConfig c;
  c.server_url = a.server;
  while (c.server_url.ends_with('/')) c.server_url.pop_back();
  c.machine_id = core::StringMember(*json, "MachineId");
  c.space_id = core::StringMember(*json, "SpaceId");
  c.name = core::StringMember(*json, "Name");
  c.thumbprint = core::StringMember(*json, "Thumbprint");
  c.poll_seconds = json->value("PollSeconds", agentwire::kPollSeconds);
  c.lease_seconds = json->value("LeaseSeconds", agentwire::kLeaseSeconds);
  c.heartbeat_seconds = json->value("HeartbeatSeconds", agentwire::kHeartbeatSeconds);
  if (c.machine_id.empty()) return Die(kExitFailed, "the server's answer has no MachineId");
  auto saved = SaveConfig(home, c);
  if (!saved) return Die(kExitFailed, saved.error().message());
  std::printf("%s %s as %s (%s) in %s; thumbprint %s\n",
              got->status == 201 ? "registered" : "already registered; updated", c.name.c_str(),
              c.machine_id.c_str(), a.server.c_str(), c.space_id.c_str(), c.thumbprint.c_str());
  return 0;
}

// GET or DELETE /me.
int Me(const std::string& home, const char* method) {
  auto config = LoadConfig(home);
  if (!config) return Die(kExitFailed, config.error().message());
  auto key = LoadKey(home, false);
  if (!key) return Die(kExitFailed, key.error().message());
  SignedClient client(config->server_url, config->machine_id, *key);
  auto got = client.Call(method, "/me");
  if (!got) return Die(kExitFailed, got.error().message());
  if (IsNotRegistered(*got)) return Die(kExitNotRegistered, got->ErrorMessage());
  if (got->status < 200 || got->status >= 300) {
    return Die(kExitFailed, fmt::format("HTTP {}: {}", got->status, got->ErrorMessage()));
  }
  if (std::string_view(method) == "DELETE") {
    std::printf("deregistered %s (%s)\n", config->name.c_str(), config->machine_id.c_str());
    return 0;
  }
  auto json = core::ParseJson(got->body);
  std::printf("%s\n", json ? json->dump(2).c_str() : got->body.c_str());
  return 0;
}

int Run(const std::string& home, uint64_t max_spool_bytes, uint64_t piece_bytes) {
  auto config = LoadConfig(home);
  if (!config) return Die(kExitFailed, config.error().message());
  auto key = LoadKey(home, false);
  if (!key) return Die(kExitFailed, key.error().message());
  // SIGTERM/SIGINT are taken on a thread of their own; every thread inherits the mask.
  const core::StopSignals signals;
  AgentOptions o;
  o.home = home;
  o.self_exe = SelfExe();
  o.config = *config;
  o.key = *key;
  o.max_spool_bytes = max_spool_bytes;
  o.artifact_piece_bytes = piece_bytes;
  Agent agent(std::move(o));
  std::thread waiter([&] {
    signals.Wait();
    agent.Stop();
  });
  std::fprintf(stderr, "cuttle-agent: %s (%s) polling %s\n", config->name.c_str(),
               config->machine_id.c_str(), config->server_url.c_str());
  int code = agent.Run();
  // Wake the signal thread if it is still waiting (the agent stopped on its own).
  ::pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return code;
}

int Main(int argc, char** argv) {
  CLI::App app{"cuttle-agent: the Cuttle deployment target agent", "cuttle-agent"};
  app.require_subcommand(1);
  std::string home;
  RegisterArgs reg;

  auto* register_cmd = app.add_subcommand("register", "register this machine with a server");
  register_cmd->add_option("--server", reg.server, "server URL (the load balancer)")->required();
  register_cmd->add_option("--api-key", reg.api_key, "an API key allowed to register")->required();
  register_cmd->add_option("--name", reg.name, "the machine's name")->required();
  register_cmd->add_option("--environment", reg.environments, "environment id or name (repeat)")
      ->required()
      ->take_last()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  register_cmd->add_option("--role", reg.roles, "target role (repeat)")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  register_cmd->add_option("--space", reg.space, "space id (default: the default space)");
  register_cmd->add_option("--home", home, "the agent's folder (keys, journal)")->required();

  auto* run = app.add_subcommand("run", "poll the server and run what it sends");
  run->add_option("--home", home, "the agent's folder")->required();
  std::string max_spool = "1G";
  run->add_option("--max-spool-bytes", max_spool,
                  "cap on each step's output spooled while the server is unreachable; past it "
                  "lines are dropped and counted (bytes, or with K, M, G; default 1G)");
  std::string piece = "4M";
  run->add_option("--artifact-piece-bytes", piece,
                  "an artifact larger than this is uploaded in pieces of this size (bytes, or "
                  "with K, M; at most 16M; default 4M)");
  auto* deregister = app.add_subcommand("deregister", "delete this machine from the server");
  deregister->add_option("--home", home, "the agent's folder")->required();
  auto* show = app.add_subcommand("show", "print this machine as the server knows it");
  show->add_option("--home", home, "the agent's folder")->required();
  auto* version = app.add_subcommand("version", "print the version");

  std::string command_id;
  int report_fd = -1;
  bool foreground = false;
  auto* exec = app.add_subcommand("exec", "");  // the detached runner; hidden
  exec->group("");
  exec->add_option("--home", home)->required();
  exec->add_option("--command", command_id)->required();
  exec->add_option("--report-fd", report_fd);
  exec->add_flag("--foreground", foreground);
  std::string exec_max_spool = std::to_string(kDefaultMaxSpoolBytes);
  exec->add_option("--max-spool-bytes", exec_max_spool);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    return Die(kExitUsage, e.what());
  }
  if (*version) {
    std::printf("cuttle-agent %s\n", CUTTLE_VERSION);
    return 0;
  }
  if (home.empty()) return Die(kExitUsage, "--home must not be empty");
  home = Absolute(home);
  if (*register_cmd) {
    if (reg.name.empty()) return Die(kExitUsage, "--name must not be empty");
    if (reg.api_key.empty()) return Die(kExitUsage, "--api-key must not be empty");
    for (const auto& v : reg.environments) {
      if (v.empty()) return Die(kExitUsage, "--environment must not be empty");
    }
    for (const auto& v : reg.roles) {
      if (v.empty()) return Die(kExitUsage, "--role must not be empty");
    }
    if (auto split = SplitServerUrl(reg.server); !split) {
      return Die(kExitUsage, split.error().message());
    }
    GlobalInit();
    return Register(reg, home);
  }
  if (*exec) {
    auto cap = ParseByteSize(exec_max_spool, "--max-spool-bytes");
    if (!cap) return Die(kExitUsage, cap.error().message());
    return ExecRunner(home, command_id, report_fd, foreground, *cap);
  }
  auto cap = ParseByteSize(max_spool, "--max-spool-bytes");
  if (*run && !cap) return Die(kExitUsage, cap.error().message());
  auto piece_bytes = ParseByteSize(piece, "--artifact-piece-bytes");
  if (*run && !piece_bytes) return Die(kExitUsage, piece_bytes.error().message());
  if (*run && *piece_bytes > agentwire::kMaxArtifactBytes) {
    return Die(kExitUsage, fmt::format("--artifact-piece-bytes is at most {} bytes",
                                       agentwire::kMaxArtifactBytes));
  }
  GlobalInit();
  if (*run) return Run(home, *cap, *piece_bytes);
  if (*deregister) return Me(home, "DELETE");
  if (*show) return Me(home, "GET");
  return Die(kExitUsage, "no subcommand");
}

}  // namespace
}  // namespace cuttle::agent

int main(int argc, char** argv) { return cuttle::agent::Main(argc, argv); }
