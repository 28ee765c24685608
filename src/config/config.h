// Node configuration: one vocabulary (DESIGN.md §1.1) read from a TOML file, CUTTLE_* environment
// variables and command-line flags, with precedence flag > environment > file > default.
// Options is a plain value; Load is a pure function of its inputs (thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cuttle::config {

// One configurable key: its TOML name, flag, environment variable and default. kSettings lists
// every key; the command line registers a flag per entry and Load() reads the other sources.
struct Setting {
  std::string_view key;   // TOML dotted key, e.g. "server.listen"
  std::string_view flag;  // e.g. "--listen"
  std::string_view env;   // e.g. "CUTTLE_LISTEN"
  std::string_view help;
};
const std::vector<Setting>& Settings();

struct Options {
  std::string node_name;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string database_url = "sqlite://./cuttle-data/cuttle.db";
  std::string shared_dir = "./cuttle-data";
  std::string packages_dir;                    // default <shared_dir>/packages
  std::string artifacts_dir;                   // default <shared_dir>/artifacts
  std::string tasklogs_dir;                    // default <shared_dir>/tasklogs
  std::optional<std::string> master_key;       // base64, given directly
  std::optional<std::string> master_key_file;  // given explicitly; "-" reads standard input
  std::string default_master_key_file;         // <shared_dir>/master.key
  int task_cap = 5;
  int heartbeat_ms = 1000;
  int node_timeout_ms = 5000;
  // The admin's key on a new database: given directly, or read from admin_api_key_file (a path,
  // or "-" for one line of standard input), which keeps it out of `ps` and /proc/PID/cmdline.
  std::optional<std::string> admin_api_key;
  std::optional<std::string> admin_api_key_file;
  // Days a finished task's log and artifacts are kept (0 = forever).
  int task_retention_days = 30;
  // Longest an ad-hoc script may run before it is killed and the task fails.
  int script_timeout_ms = 3'600'000;
  // This node's scratch folder for scripts' working folders (node-local; swept at start).
  std::string work_dir;  // default <shared_dir>/work/<node_name>
  // Largest file a script may collect as an artifact.
  uint64_t max_artifact_bytes = 1ULL << 30;
  // Largest package the built-in feed accepts (413 above it).
  uint64_t max_package_size_bytes = 10ULL << 30;
  // Versions of each package id that package retention keeps (0 = keep all).
  int package_retention_versions = 0;
  // HTTP caps: past each one the node answers 503 with Retry-After and keeps answering ping.
  int max_connections = 10000;                // open connections (agents hold one each)
  uint64_t max_buffered_bytes = 64ULL << 20;  // request bodies held in memory, node-wide
  int max_uploads = 64;                       // streamed uploads in progress
  // The built web portal (index.html and assets/), served at /app. The default is where `make`
  // builds it, relative to the working folder, so `make run` from the repository serves it.
  std::string web_dir = "./web/dist";
  std::string config_file;  // empty if none
  bool verbose = false;

  bool is_sqlite() const { return database_url.rfind("sqlite://", 0) == 0; }
  std::string listen() const { return listen_host + ":" + std::to_string(listen_port); }
};

// Raw values given on the command line, keyed by Setting::key. "config" holds --config.
using FlagValues = std::map<std::string, std::string>;
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The real environment.
EnvLookup ProcessEnv();

// Merges the sources and validates every value. Errors are one line naming the key, the value and
// what was expected, e.g. "server.listen: '127.0.0.1:x' is not valid (expected HOST:PORT with
// PORT 0-65535)". The caller exits with code 2.
Result<Options> Load(const FlagValues& flags, const EnvLookup& env);

// A secret given as a file: the file's text, or for "-" one line of standard input, without
// surrounding whitespace. Reads at most 4 KiB, so a wrong path (a device, a log) cannot make
// start-up read without end. Errors name `key` and the path, never the content.
Result<std::string> ReadSecretFile(std::string_view key, const std::string& path);

}  // namespace cuttle::config
