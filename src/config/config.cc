#include "config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/ids.h"
#include "core/strings.h"

namespace cuttle::config {

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"node.name", "--node-name", "CUTTLE_NODE_NAME", "this node's name (default: host name)"},
      {"server.listen", "--listen", "CUTTLE_LISTEN", "HOST:PORT to serve HTTP on"},
      {"server.max_connections", "--max-connections", "CUTTLE_MAX_CONNECTIONS",
       "open HTTP connections (16-1000000; past it 503, ping still answered)"},
      {"server.max_buffered_bytes", "--max-buffered-bytes", "CUTTLE_MAX_BUFFERED_BYTES",
       "request bodies held in memory across all requests (16MiB-16TiB, default 64MiB; past it "
       "503)"},
      {"server.max_uploads", "--max-uploads", "CUTTLE_MAX_UPLOADS",
       "package uploads in progress at once (1-10000; past it 503)"},
      {"server.web_dir", "--web-dir", "CUTTLE_WEB_DIR",
       "the built web portal served at /app (default ./web/dist: `make` builds it there)"},
      {"database.url", "--database", "CUTTLE_DATABASE",
       "sqlite://PATH or postgresql://user@host1,host2/db?target_session_attrs=read-write"},
      {"storage.shared_dir", "--shared-dir", "CUTTLE_SHARED_DIR", "root of shared storage"},
      {"storage.packages_dir", "--packages-dir", "CUTTLE_PACKAGES_DIR", "package files"},
      {"storage.artifacts_dir", "--artifacts-dir", "CUTTLE_ARTIFACTS_DIR", "artifact files"},
      {"storage.tasklogs_dir", "--tasklogs-dir", "CUTTLE_TASKLOGS_DIR", "task logs"},
      {"security.master_key", "--master-key", "CUTTLE_MASTER_KEY",
       "the cluster's master key (visible in `ps`: prefer the file form)"},
      {"security.master_key_file", "--master-key-file", "CUTTLE_MASTER_KEY_FILE",
       "file holding the master key ('-': read one line from stdin)"},
      {"node.task_cap", "--task-cap", "CUTTLE_TASK_CAP", "initial task cap of a new node (0-1000)"},
      {"cluster.heartbeat_ms", "--heartbeat-ms", "CUTTLE_HEARTBEAT_MS", "heartbeat interval"},
      {"cluster.node_timeout_ms", "--node-timeout-ms", "CUTTLE_NODE_TIMEOUT_MS",
       "a node unseen this long is offline"},
      {"bootstrap.admin_api_key", "--admin-api-key", "CUTTLE_ADMIN_API_KEY",
       "the admin's API key on a new database (visible in `ps`: prefer the file form)"},
      {"bootstrap.admin_api_key_file", "--admin-api-key-file", "CUTTLE_ADMIN_API_KEY_FILE",
       "file holding the admin's API key on a new database ('-': read one line from stdin)"},
      {"tasks.retention_days", "--task-retention-days", "CUTTLE_TASK_RETENTION_DAYS",
       "days finished task logs and artifacts are kept (0 = forever)"},
      {"tasks.script_timeout_ms", "--script-timeout-ms", "CUTTLE_SCRIPT_TIMEOUT_MS",
       "longest an ad-hoc script may run"},
      {"tasks.work_dir", "--work-dir", "CUTTLE_WORK_DIR",
       "this node's own folder for scripts' working folders; local disk, never shared "
       "(default <shared_dir>/work/<node name>)"},
      {"tasks.max_artifact_bytes", "--max-artifact-size", "CUTTLE_MAX_ARTIFACT_SIZE",
       "largest file a script may collect as an artifact, in bytes or with KiB/MiB/GiB "
       "(default 1GiB)"},
      {"packages.max_size_bytes", "--max-package-size", "CUTTLE_MAX_PACKAGE_SIZE",
       "largest package accepted, in bytes or with KiB/MiB/GiB (default 10GiB)"},
      {"packages.retention_versions", "--package-retention-versions",
       "CUTTLE_PACKAGE_RETENTION_VERSIONS",
       "versions of each package id kept by retention (0 = keep all)"},
  };
  return kSettings;
}

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace {

Error Invalid(std::string_view key, std::string_view value, std::string_view expected) {
  return Error::InvalidArgument(
      fmt::format("{}: '{}' is not valid (expected {})", key, value, expected));
}

// Reads the TOML file into flat "section.key" -> text values, rejecting unknown keys.
Result<std::map<std::string, std::string>> ReadToml(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Fail(Error::InvalidArgument(
        fmt::format("--config: cannot read '{}': {}", path, std::strerror(errno))));
  }
  std::stringstream text;
  text << in.rdbuf();
  toml::table table;
  try {
    table = toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Fail(Error::InvalidArgument(
        fmt::format("--config: '{}' line {}: {}", path, where.line, e.description())));
  }
  std::map<std::string, std::string> out;
  std::string known;
  for (const auto& s : Settings()) known += (known.empty() ? "" : ", ") + std::string(s.key);
  for (auto&& [section, node] : table) {
    const auto* inner = node.as_table();
    if (inner == nullptr) {
      return Fail(Error::InvalidArgument(fmt::format(
          "{}: unknown configuration key '{}' (expected one of: {})", path, section.str(), known)));
    }
    for (auto&& [name, value] : *inner) {
      std::string key = std::string(section.str()) + "." + std::string(name.str());
      bool ok = false;
      for (const auto& s : Settings()) ok = ok || s.key == key;
      if (!ok) {
        return Fail(Error::InvalidArgument(fmt::format(
            "{}: unknown configuration key '{}' (expected one of: {})", path, key, known)));
      }
      if (auto str = value.value<std::string>(); str && value.is_string()) {
        out[key] = *str;
      } else if (auto i = value.value<int64_t>(); i && value.is_integer()) {
        out[key] = std::to_string(*i);
      } else if (auto b = value.value<bool>(); b && value.is_boolean()) {
        out[key] = *b ? "true" : "false";
      } else {
        std::ostringstream shown;
        shown << value.type();
        return Fail(Invalid(key, "<" + shown.str() + ">", "a string, an integer or a boolean"));
      }
    }
  }
  return out;
}

Result<int> ParseRange(std::string_view key, const std::string& value, int lo, int hi) {
  auto v = core::ParseInt(value);
  if (!v || *v < lo || *v > hi) {
    return Fail(Invalid(key, value, fmt::format("an integer from {} to {}", lo, hi)));
  }
  return static_cast<int>(*v);
}

// "1048576", "512MiB", "10GiB" (binary units; 1 byte to 16 TiB).
Result<uint64_t> ParseSize(std::string_view key, const std::string& value) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40}};
  std::string_view digits = value;
  uint64_t unit = 1;
  for (auto [suffix, factor] : kUnits) {
    if (digits.size() > suffix.size() &&
        core::EqualsIgnoreCase(digits.substr(digits.size() - suffix.size()), suffix)) {
      digits.remove_suffix(suffix.size());
      unit = factor;
      break;
    }
  }
  auto n = core::ParseInt(digits);
  constexpr uint64_t kMax = 16ULL << 40;
  if (!n || *n < 1 || static_cast<uint64_t>(*n) > kMax / unit) {
    return Fail(Invalid(key, value, "a size from 1 byte to 16TiB, e.g. 1073741824 or 10GiB"));
  }
  return static_cast<uint64_t>(*n) * unit;
}

bool ValidNodeName(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

// bootstrap.admin_api_key, or the key read from bootstrap.admin_api_key_file. A bad key read
// from a file is not echoed: the file may be the wrong one and hold another secret.
Result<void> LoadAdminApiKey(Options& o, std::optional<std::string> value,
                             std::optional<std::string> file) {
  constexpr std::string_view kExpected =
      "API- followed by at least 26 upper-case letters and digits";
  if (value && value->empty()) value.reset();
  if (file && file->empty()) file.reset();
  if (value && file) {
    return Fail(Error::InvalidArgument(
        "bootstrap.admin_api_key_file: give either bootstrap.admin_api_key or "
        "bootstrap.admin_api_key_file, not both"));
  }
  if (value && !core::IsApiKeyFormat(*value)) {
    return Fail(Invalid("bootstrap.admin_api_key", *value, kExpected));
  }
  if (file) {
    CUTTLE_TRY(value, ReadSecretFile("bootstrap.admin_api_key_file", *file));
    if (!core::IsApiKeyFormat(*value)) {
      return Fail(Error::InvalidArgument(
          fmt::format("bootstrap.admin_api_key_file: '{}' does not hold a valid key (expected {})",
                      *file, kExpected)));
    }
  }
  o.admin_api_key = std::move(value);
  o.admin_api_key_file = std::move(file);
  return {};
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "cuttle";
  return buf;
}

}  // namespace

Result<std::string> ReadSecretFile(std::string_view key, const std::string& path) {
  constexpr size_t kMax = 4096;
  std::string text;
  if (path == "-") {
    char c = 0;
    while (text.size() <= kMax && std::cin.get(c) && c != '\n') text += c;
    if (text.empty() && !std::cin) {
      return Fail(Error::InvalidArgument(
          fmt::format("{}: '-' reads the value from standard input, which gave no line", key)));
    }
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Fail(Error::InvalidArgument(
          fmt::format("{}: cannot read '{}': {}", key, path, std::strerror(errno))));
    }
    text.resize(kMax + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
  }
  if (text.size() > kMax) {
    return Fail(Error::InvalidArgument(fmt::format(
        "{}: '{}' gave more than {} bytes; it should hold just the value", key, path, kMax)));
  }
  return std::string(core::Trim(text));
}

Result<Options> Load(const FlagValues& flags, const EnvLookup& env) {
  std::string config_file;
  if (auto it = flags.find("config"); it != flags.end()) {
    config_file = it->second;
  } else if (auto e = env("CUTTLE_CONFIG")) {
    config_file = *e;
  }
  std::map<std::string, std::string> file_values;
  if (!config_file.empty()) {
    CUTTLE_TRY(file_values, ReadToml(config_file));
  }

  // Resolved raw value per key, by precedence.
  auto get = [&](std::string_view key) -> std::optional<std::string> {
    for (const auto& s : Settings()) {
      if (s.key != key) continue;
      if (auto it = flags.find(std::string(key)); it != flags.end()) return it->second;
      if (auto e = env(s.env)) return *e;
      if (auto it = file_values.find(std::string(key)); it != file_values.end()) return it->second;
      return std::nullopt;
    }
    CUTTLE_CHECK(false && "unknown setting");
    return std::nullopt;
  };

  Options o;
  o.config_file = config_file;

  o.node_name = get("node.name").value_or(HostName());
  if (!ValidNodeName(o.node_name)) {
    return Fail(Invalid("node.name", o.node_name, "1-100 letters, digits, '-', '_' or '.'"));
  }

  if (auto listen = get("server.listen")) {
    auto colon = listen->rfind(':');
    std::optional<int64_t> port;
    if (colon != std::string::npos) port = core::ParseInt(listen->substr(colon + 1));
    if (colon == std::string::npos || colon == 0 || !port || *port < 0 || *port > 65535) {
      return Fail(
          Invalid("server.listen", *listen, "HOST:PORT with PORT 0-65535, e.g. 127.0.0.1:8080"));
    }
    o.listen_host = listen->substr(0, colon);
    if (o.listen_host.size() > 2 && o.listen_host.front() == '[' && o.listen_host.back() == ']') {
      o.listen_host = o.listen_host.substr(1, o.listen_host.size() - 2);
    }
    o.listen_port = static_cast<uint16_t>(*port);
  }

  if (auto v = get("server.max_connections")) {
    CUTTLE_TRY(o.max_connections, ParseRange("server.max_connections", *v, 16, 1'000'000));
  }
  if (auto v = get("server.max_buffered_bytes")) {
    CUTTLE_TRY(o.max_buffered_bytes, ParseSize("server.max_buffered_bytes", *v));
    if (o.max_buffered_bytes < (16ULL << 20)) {
      return Fail(Invalid("server.max_buffered_bytes", *v,
                          "at least 16MiB, room for the largest request body (10MiB)"));
    }
  }
  if (auto v = get("server.max_uploads")) {
    CUTTLE_TRY(o.max_uploads, ParseRange("server.max_uploads", *v, 1, 10'000));
  }

  if (auto v = get("server.web_dir")) {
    if (v->empty()) return Fail(Invalid("server.web_dir", *v, "a directory path"));
    o.web_dir = *v;
  }

  if (auto v = get("storage.shared_dir")) {
    if (v->empty()) return Fail(Invalid("storage.shared_dir", *v, "a directory path"));
    o.shared_dir = *v;
  }
  auto dir = [&](std::string_view key, std::string_view sub) -> Result<std::string> {
    auto v = get(key);
    if (!v) return o.shared_dir + "/" + std::string(sub);
    if (v->empty()) return Fail(Invalid(key, *v, "a directory path"));
    return *v;
  };
  CUTTLE_TRY(o.packages_dir, dir("storage.packages_dir", "packages"));
  CUTTLE_TRY(o.artifacts_dir, dir("storage.artifacts_dir", "artifacts"));
  CUTTLE_TRY(o.tasklogs_dir, dir("storage.tasklogs_dir", "tasklogs"));

  if (auto v = get("database.url")) {
    o.database_url = *v;
  } else {
    o.database_url = "sqlite://" + o.shared_dir + "/cuttle.db";
  }
  bool url_ok = false;
  if (o.database_url.rfind("sqlite://", 0) == 0) {
    url_ok = o.database_url.size() > std::string_view("sqlite://").size();
  } else if (o.database_url.rfind("postgresql://", 0) == 0 ||
             o.database_url.rfind("postgres://", 0) == 0) {
    url_ok =
        o.database_url.find('@') != std::string::npos ||
        o.database_url.find_first_not_of('/', o.database_url.find("://") + 3) != std::string::npos;
  }
  if (!url_ok) {
    return Fail(Invalid("database.url", o.database_url,
                        "sqlite://PATH or postgresql://USER@HOST[:PORT][,HOST2[:PORT]]/DB"));
  }

  o.master_key = get("security.master_key");
  if (o.master_key && o.master_key->empty()) o.master_key.reset();
  o.master_key_file = get("security.master_key_file");
  if (o.master_key_file && o.master_key_file->empty()) o.master_key_file.reset();
  o.default_master_key_file = o.shared_dir + "/master.key";

  if (auto v = get("node.task_cap")) {
    CUTTLE_TRY(o.task_cap, ParseRange("node.task_cap", *v, 0, 1000));
  }
  if (auto v = get("cluster.heartbeat_ms")) {
    CUTTLE_TRY(o.heartbeat_ms, ParseRange("cluster.heartbeat_ms", *v, 50, 60'000));
  }
  if (auto v = get("cluster.node_timeout_ms")) {
    CUTTLE_TRY(o.node_timeout_ms, ParseRange("cluster.node_timeout_ms", *v, 200, 3'600'000));
  }
  if (o.node_timeout_ms < 2 * o.heartbeat_ms) {
    return Fail(Invalid("cluster.node_timeout_ms", std::to_string(o.node_timeout_ms),
                        fmt::format("at least twice cluster.heartbeat_ms ({})", o.heartbeat_ms)));
  }
  if (o.master_key_file == "-" && get("bootstrap.admin_api_key_file") == "-") {
    return Fail(Error::InvalidArgument(
        "bootstrap.admin_api_key_file: '-' (standard input) is already taken by "
        "security.master_key_file; give one of them as a file"));
  }
  CUTTLE_TRY_VOID(
      LoadAdminApiKey(o, get("bootstrap.admin_api_key"), get("bootstrap.admin_api_key_file")));
  if (auto v = get("tasks.retention_days")) {
    CUTTLE_TRY(o.task_retention_days, ParseRange("tasks.retention_days", *v, 0, 36500));
  }
  if (auto v = get("tasks.script_timeout_ms")) {
    CUTTLE_TRY(o.script_timeout_ms, ParseRange("tasks.script_timeout_ms", *v, 100, 86'400'000));
  }
  CUTTLE_TRY(o.work_dir, dir("tasks.work_dir", "work/" + o.node_name));
  if (auto v = get("tasks.max_artifact_bytes")) {
    CUTTLE_TRY(o.max_artifact_bytes, ParseSize("tasks.max_artifact_bytes", *v));
  }
  if (auto v = get("packages.max_size_bytes")) {
    CUTTLE_TRY(o.max_package_size_bytes, ParseSize("packages.max_size_bytes", *v));
  }
  if (auto v = get("packages.retention_versions")) {
    CUTTLE_TRY(o.package_retention_versions,
               ParseRange("packages.retention_versions", *v, 0, 1'000'000));
  }
  return o;
}

}  // namespace cuttle::config
