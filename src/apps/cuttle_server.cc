// cuttle-server: one node of a Cuttle cluster (`run`) and the offline administration commands
// (DESIGN.md §1.2). Parses flags, loads configuration, wires the modules and runs.
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "agents/service.h"
#include "api/api.h"
#include "apps/server_setup.h"
#include "auth/auth.h"
#include "auth/sessions.h"
#include "cluster/node_registry.h"
#include "cluster/scheduler.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/strings.h"
#include "crypto/password.h"
#include "crypto/session_seal.h"
#include "db/migrations.h"
#include "deploy/health_kind.h"
#include "deploy/orchestrator.h"
#include "feed/package_store.h"
#include "http/http.h"
#include "http/static_site.h"
#include "repo/repo.h"
#include "storage/storage.h"
#include "tasks/artifacts.h"
#include "tasks/retention.h"
#include "tasks/task_queue.h"
#include "tasks/task_runner.h"

namespace cuttle::apps {
namespace {

// Prints one line and returns the exit code for it.
int Die(const Error& e) {
  std::fprintf(stderr, "cuttle-server: %s\n", e.message().c_str());
  return ExitCodeFor(e);
}

storage::Roots RootsOf(const config::Options& o) {
  return {o.packages_dir, o.artifacts_dir, o.tasklogs_dir};
}

// Raises the soft limit on open files to the hard one: every connection is a descriptor, and a
// distribution's default soft limit (1024) is below server.max_connections plus the database pool,
// files and sockets of a busy node.
void RaiseOpenFileLimit(const config::Options& o) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  constexpr rlim_t kReserve = 256;  // database, files, the overflow connections
  if (limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < static_cast<rlim_t>(o.max_connections) + kReserve) {
    CUTTLE_LOG_WARN(
        "server.max_connections is {} but this process may open only {} files; raise the limit "
        "(ulimit -n, LimitNOFILE=) or lower server.max_connections",
        o.max_connections, static_cast<uint64_t>(limit.rlim_cur));
  }
}

int Run(const config::Options& o) {
  auto started = std::chrono::steady_clock::now();
  core::InitLogging(o.node_name, o.verbose);
  HideFromScripts();

  // Signals are taken on this thread; every thread started later inherits the mask.
  const core::StopSignals signals;

  if (auto r = storage::Prepare(RootsOf(o)); !r) return Die(r.error());
  RaiseOpenFileLimit(o);

  auto opened = OpenNodeDatabase(o, 16);
  if (!opened) return Die(opened.error());
  db::Database& db = *opened->db;
  if (opened->key_created) {
    CUTTLE_LOG_INFO("generated a new master key in {}", o.default_master_key_file);
  }

  std::string admin_key = o.admin_api_key.value_or(core::NewApiKey());
  // Hashed on every start (a tenth of a second) so the admin is created with its password in
  // one transaction; only the node that creates the admin prints it.
  std::string admin_password = crypto::RandomPassword();
  auto admin_password_hash = crypto::HashPassword(admin_password);
  if (!admin_password_hash) return Die(admin_password_hash.error());
  auto boot = repo::Bootstrap(db, auth::HashApiKey(admin_key), *admin_password_hash);
  if (!boot) return Die(boot.error());

  cluster::RegistryOptions reg_options{o.node_name, CUTTLE_VERSION, db::LatestSchemaVersion(),
                                       o.task_cap,  o.heartbeat_ms, o.node_timeout_ms};
  cluster::NodeRegistry registry(db, core::SystemClock::Instance(), reg_options);
  if (auto r = registry.Start(); !r) return Die(r.error().Wrap("cannot register this node"));

  tasks::TaskQueue queue(db);
  tasks::ArtifactStore artifacts(db, o.artifacts_dir);
  feed::PackageStore packages(db, o.packages_dir, o.max_package_size_bytes);
  // Sensitive variables are sealed under a sub-key of the master key OpenNodeDatabase resolved
  // (on SQLite without a configured key, the default key file, created with a new database).
  const crypto::SecretBox secrets(opened->key);
  deploy::OrchestratorOptions deploy_options;
  deploy_options.db = &db;
  deploy_options.secrets = &secrets;
  deploy_options.packages = &packages;
  deploy_options.tasklogs_dir = o.tasklogs_dir;
  deploy_options.worker_home = o.work_dir + "/worker";
  deploy_options.script_timeout = std::chrono::milliseconds(o.script_timeout_ms);
  if (auto r = deploy::RegisterDeploymentKinds(tasks::TaskKinds::Registry(), deploy_options); !r) {
    registry.Stop();
    return Die(r.error());
  }
  deploy::HealthOptions health_options;
  health_options.db = &db;
  health_options.secrets = &secrets;
  if (auto r = deploy::RegisterHealthKind(tasks::TaskKinds::Registry(), health_options); !r) {
    registry.Stop();
    return Die(r.error());
  }
  tasks::RunnerOptions runner_options;
  runner_options.node_name = o.node_name;
  runner_options.tasklogs_dir = o.tasklogs_dir;
  runner_options.artifacts_dir = o.artifacts_dir;
  runner_options.work_dir = o.work_dir;
  runner_options.max_artifact_bytes = static_cast<int64_t>(o.max_artifact_bytes);
  runner_options.node_timeout_ms = o.node_timeout_ms;
  runner_options.script_timeout = std::chrono::milliseconds(o.script_timeout_ms);
  tasks::TaskRunner runner(db, registry, runner_options);
  if (auto r = runner.Start(); !r) {
    registry.Stop();
    return Die(r.error().Wrap("cannot start the task runner"));
  }

  // Cluster jobs: whichever node takes a due run executes it (no leader).
  cluster::Scheduler scheduler(db, core::SystemClock::Instance(), o.node_name);
  scheduler.Add("reap-dead-nodes", std::chrono::milliseconds(o.heartbeat_ms),
                [&]() -> Result<void> {
                  CUTTLE_TRY_VOID(runner.ReapDeadNodes());
                  return {};
                });
  scheduler.Add("expire-queued-tasks", std::chrono::seconds(1), [&]() -> Result<void> {
    CUTTLE_TRY_VOID(queue.ExpireQueued());
    return {};
  });
  scheduler.Add("task-retention", std::chrono::hours(1), [&]() -> Result<void> {
    CUTTLE_TRY(int purged,
               tasks::ApplyRetention(db, artifacts, o.tasklogs_dir, o.task_retention_days));
    if (purged > 0) CUTTLE_LOG_INFO("retention purged the logs of {} task(s)", purged);
    return {};
  });
  scheduler.Add("package-retention", std::chrono::hours(1), [&]() -> Result<void> {
    CUTTLE_TRY(int purged, packages.ApplyRetention(o.package_retention_versions));
    if (purged > 0) CUTTLE_LOG_INFO("package retention deleted {} version(s)", purged);
    return {};
  });
  scheduler.Start();

  queue.SetLocalDispatch(runner.LocalDispatch());
  api::ApiContext ctx{db, registry, o, boot->installation_id, queue, artifacts, packages, secrets};
  // Session cookies are sealed under a key derived from the master key: any node opens them.
  const crypto::SessionSeal session_seal(opened->key);
  ctx.sessions = &session_seal;
  // The agents' polls are held by this node's hub; a draining node sends them elsewhere.
  agents::HubOptions hub_options;
  hub_options.node_name = o.node_name;
  hub_options.draining = [&registry] {
    return registry.stopping() || registry.row().is_in_maintenance_mode;
  };
  agents::AgentService agent_service(db, secrets, packages, hub_options);
  agent_service.SetArtifacts(&artifacts, o.max_artifact_bytes);
  ctx.agents = &agent_service;
  http::ServerOptions http_options;
  http_options.host = o.listen_host;
  http_options.port = o.listen_port;
  http_options.node_name = o.node_name;
  http_options.max_connections = static_cast<size_t>(o.max_connections);
  http_options.max_buffered_bytes = o.max_buffered_bytes;
  http_options.max_streams = o.max_uploads;
  http::Server server(http_options, api::BuildRouter(ctx));
  if (auto r = server.Start(); !r) {
    agent_service.Stop();
    scheduler.Stop();
    runner.Stop(std::chrono::milliseconds(0));
    registry.Stop();
    return Die(Error::InvalidArgument(
        fmt::format("server.listen: '{}' cannot be used: {}", o.listen(), r.error().message())));
  }

  agent_service.Start();

  auto ready_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  std::string url = fmt::format("http://{}:{}", o.listen_host, server.port());
  CUTTLE_LOG_INFO("node {} ready in {} ms: {} (database {}, schema {})", o.node_name, ready_ms, url,
                  o.is_sqlite() ? "SQLite" : "PostgreSQL", db::LatestSchemaVersion());
  std::printf("Cuttle is listening on %s\n", url.c_str());
  if (http::StaticSite(o.web_dir).HasIndex()) {
    std::printf("Portal: %s/app\n", url.c_str());
  }
  if (boot->created_admin) {
    if (o.admin_api_key) {
      std::printf(
          "Created user 'admin' with the API key from %s.\n",
          o.admin_api_key_file ? "bootstrap.admin_api_key_file" : "bootstrap.admin_api_key");
    } else {
      std::printf("Created user 'admin'. Its API key (shown once): %s\n", admin_key.c_str());
    }
    // On stdout only, never through the log; `admin set-password` replaces it.
    std::printf("Password: %s\n", admin_password.c_str());
  }
  std::fflush(stdout);

  const int sig = signals.Wait();
  CUTTLE_LOG_INFO("received {}; draining in-flight requests",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // Stop taking work first, then finish requests and running tasks within the same 10 s.
  auto shutdown_started = std::chrono::steady_clock::now();
  agent_service.Stop();  // held polls answered 204 at once: the agents poll another node
  std::thread http_stop([&] { server.Shutdown(std::chrono::seconds(10)); });
  scheduler.Stop();
  runner.Stop(std::chrono::seconds(10));
  http_stop.join();
  registry.Stop();
  CUTTLE_LOG_INFO("shutdown took {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - shutdown_started)
                                             .count());
  CUTTLE_LOG_INFO("node {} stopped", o.node_name);
  return 0;
}

int Migrate(const config::Options& o, bool force) {
  auto admin = OpenAdminDatabase(o, 2, /*migrate=*/false);
  if (!admin) return Die(admin.error());
  db::Database& db = *admin->db;
  auto current = db::CurrentSchemaVersion(db);
  if (!current) return Die(current.error());
  if (*current > 0 && !force) {
    // Refuse while nodes of another version are online: their schema expectations could break.
    // (Rows of older schemas may lack columns; nodes exist only once the foundation schema does.)
    auto nodes = repo::ListAllNodes(db, o.node_timeout_ms);
    if (nodes) {
      for (const auto& n : *nodes) {
        if (!n.is_offline && n.version != CUTTLE_VERSION) {
          return Die(Error::Conflict(fmt::format(
              "node {} (version {}) is online; stop it or pass --force to migrate anyway", n.name,
              n.version)));
        }
      }
    }
  }
  auto applied = MigrateDatabase(o, db, admin->key);
  if (!applied) return Die(applied.error());
  std::printf("schema is at version %d\n", *applied);
  return 0;
}

int Check(const config::Options& o) {
  if (auto r = storage::Prepare(RootsOf(o)); !r) return Die(r.error());
  RaiseOpenFileLimit(o);
  std::printf("storage: ok (%s, %s, %s)\n", o.packages_dir.c_str(), o.artifacts_dir.c_str(),
              o.tasklogs_dir.c_str());
  auto database = OpenDatabase(o, 1);
  if (!database) return Die(database.error());
  auto version = db::CurrentSchemaVersion(**database);
  if (!version) return Die(version.error());
  std::printf("database: ok (schema %d, this build %d)\n", *version, db::LatestSchemaVersion());
  if (*version > db::LatestSchemaVersion()) {
    return Die(Error::Conflict("the database schema is newer than this build"));
  }
  auto key = ResolveMasterKey(o, /*create_if_missing=*/false);
  if (!key) return Die(key.error());
  auto stored = StoredKeyCheck(**database);
  if (!stored) return Die(stored.error());
  if (auto r = MatchKeyCheck(*stored, *key); !r) return Die(r.error());
  std::printf("master key: ok\n");
  return 0;
}

int MasterKeyShow(const config::Options& o) {
  auto key = ResolveMasterKey(o, /*create_if_missing=*/false);
  if (!key) return Die(key.error());
  std::printf("%s\n", key->ToBase64().c_str());
  return 0;
}

int NodeCommand(const config::Options& o, const std::string& action, const std::string& name,
                const std::string& value) {
  auto admin = OpenAdminDatabase(o, 1, /*migrate=*/true);
  if (!admin) return Die(admin.error());
  db::Database& db = *admin->db;
  if (action == "list") {
    auto nodes = repo::ListAllNodes(db, o.node_timeout_ms);
    if (!nodes) return Die(nodes.error());
    std::printf("%-24s %-8s %-9s %4s %7s  %-29s %s\n", "NAME", "STATUS", "DRAINING", "CAP",
                "RUNNING", "LAST SEEN", "VERSION");
    for (const auto& n : *nodes) {
      std::printf("%-24s %-8s %-9s %4d %7lld  %-29s %s\n", n.name.c_str(),
                  n.is_offline ? "offline" : "online", n.is_in_maintenance_mode ? "yes" : "no",
                  n.max_concurrent_tasks, static_cast<long long>(n.running_task_count),
                  core::FormatIso8601(n.last_seen).c_str(), n.version.c_str());
    }
    return 0;
  }
  if (name.empty())
    return Die(Error::InvalidArgument("node " + action + ": a node NAME is required"));
  auto found = repo::FindNode(db, name, o.node_timeout_ms);
  if (!found) return Die(found.error());
  if (!*found) return Die(Error::NotFound("node", name));
  const std::string id = (*found)->id;
  if (action == "delete") {
    auto r = repo::DeleteNode(db, id);
    if (!r) return Die(r.error());
    std::printf("deleted %s\n", id.c_str());
    return 0;
  }
  repo::NodeUpdate update;
  update.modified_by = "cuttle-server node " + action;
  if (action == "drain" || action == "undrain") {
    update.is_in_maintenance_mode = action == "drain";
  } else if (action == "cap") {
    auto n = core::ParseInt(value);
    if (!n || *n < 0 || *n > 1000) {
      return Die(Error::InvalidArgument(
          fmt::format("node cap: '{}' is not valid (expected an integer from 0 to 1000)", value)));
    }
    update.max_concurrent_tasks = static_cast<int>(*n);
  }
  auto r = repo::UpdateNode(db, id, update, o.node_timeout_ms);
  if (!r) return Die(r.error());
  std::printf("%s: draining=%s cap=%d\n", id.c_str(), (*r)->is_in_maintenance_mode ? "yes" : "no",
              (*r)->max_concurrent_tasks);
  return 0;
}

int CreateApiKey(const config::Options& o, const std::string& user) {
  auto admin = OpenAdminDatabase(o, 1, /*migrate=*/true);
  if (!admin) return Die(admin.error());
  auto key = auth::CreateApiKey(*admin->db, user, "Created by cuttle-server admin create-api-key");
  if (!key) return Die(key.error());
  std::printf("%s\n", key->c_str());
  return 0;
}

// Reads the new password from standard input: one line (a final newline is not part of it).
int SetPassword(const config::Options& o, const std::string& username) {
  std::string input;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0 && input.size() <= 65536) {
    input.append(buf, n);
  }
  if (input.ends_with("\n")) input.pop_back();
  if (input.ends_with("\r")) input.pop_back();
  if (input.find('\n') != std::string::npos) {
    return Die(Error::InvalidArgument(
        "admin set-password: standard input must hold the password on one line"));
  }
  if (auto ok = auth::CheckNewPassword(input); !ok) {
    return Die(Error::InvalidArgument("admin set-password: " + ok.error().message()));
  }
  auto admin = OpenAdminDatabase(o, 1, /*migrate=*/true);
  if (!admin) return Die(admin.error());
  auto user = repo::FindUserByName(*admin->db, username);
  if (!user) return Die(user.error());
  if (!*user) return Die(Error::NotFound("user", username));
  if ((*user)->is_service) {
    return Die(
        Error::InvalidArgument("admin set-password: a service account cannot have a password"));
  }
  // Also lifts a lockout and ends the user's sessions.
  auto r = auth::SetPassword(*admin->db, (*user)->id, input, crypto::PasswordCost::Interactive());
  if (!r) return Die(r.error());
  std::printf("Password set for user '%s'.\n", (*user)->username.c_str());
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"Cuttle: a highly available deployment automation server", "cuttle-server"};
  app.require_subcommand(1);
  app.fallthrough();

  // One flag per configuration key; only flags actually given take part in the precedence.
  std::map<std::string, std::string> storage;
  std::map<std::string, CLI::Option*> given;
  for (const auto& s : config::Settings()) {
    std::string key(s.key);
    given[key] = app.add_option(std::string(s.flag), storage[key], std::string(s.help));
  }
  std::string config_file;
  auto* config_opt = app.add_option("--config", config_file, "TOML configuration file");
  bool verbose = false;
  app.add_flag("--verbose", verbose, "debug logging");

  auto* run = app.add_subcommand("run", "run this node: serve the API and execute tasks");
  bool force = false;
  auto* migrate = app.add_subcommand("migrate", "apply pending schema migrations");
  migrate->add_flag("--force", force, "migrate even while nodes of another version are online");
  auto* check = app.add_subcommand("check", "check configuration, database, master key, storage");
  auto* version = app.add_subcommand("version", "print the version");

  auto* mk = app.add_subcommand("master-key", "the cluster's master key");
  mk->require_subcommand(1);
  auto* mk_generate = mk->add_subcommand("generate", "print a new random master key");
  auto* mk_show = mk->add_subcommand("show", "print the master key this node is configured with");

  auto* node = app.add_subcommand("node", "manage cluster nodes directly in the database");
  node->require_subcommand(1);
  std::string node_name, node_value;
  auto* node_list = node->add_subcommand("list", "list nodes");
  std::vector<std::pair<std::string, CLI::App*>> node_actions;
  for (const char* action : {"drain", "undrain", "delete"}) {
    auto* sub = node->add_subcommand(action, std::string(action) + " a node");
    sub->add_option("NAME", node_name, "node name or id")->required();
    node_actions.emplace_back(action, sub);
  }
  auto* node_cap = node->add_subcommand("cap", "set a node's task cap");
  node_cap->add_option("NAME", node_name, "node name or id")->required();
  node_cap->add_option("N", node_value, "task cap, 0-1000")->required();
  node_actions.emplace_back("cap", node_cap);

  auto* admin = app.add_subcommand("admin", "user administration");
  admin->require_subcommand(1);
  std::string user;
  auto* create_key = admin->add_subcommand("create-api-key", "print a new API key for a user");
  create_key->add_option("--user", user, "user name")->required();
  auto* set_password = admin->add_subcommand(
      "set-password", "set a user's password, read as one line from standard input");
  set_password->add_option("--user", user, "user name")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitConfig;
  }

  if (*version) {
    std::printf("cuttle-server %s (Octopus API %s)\n", CUTTLE_VERSION, CUTTLE_OCTOPUS_API_VERSION);
    return 0;
  }
  if (*mk_generate) {
    std::printf("%s\n", crypto::MasterKey::Generate().ToBase64().c_str());
    return 0;
  }

  config::FlagValues flags;
  for (const auto& [key, opt] : given) {
    if (opt->count() > 0) flags[key] = storage[key];
  }
  if (config_opt->count() > 0) flags["config"] = config_file;
  auto options = config::Load(flags, config::ProcessEnv());
  if (!options) return Die(options.error());
  options->verbose = verbose;

  if (*run) return Run(*options);
  if (*migrate) return Migrate(*options, force);
  if (*check) return Check(*options);
  if (*mk_show) return MasterKeyShow(*options);
  if (*node_list) return NodeCommand(*options, "list", "", "");
  for (const auto& [action, sub] : node_actions) {
    if (*sub) return NodeCommand(*options, action, node_name, node_value);
  }
  if (*create_key) return CreateApiKey(*options, user);
  if (*set_password) return SetPassword(*options, user);
  return kExitConfig;
}

}  // namespace
}  // namespace cuttle::apps

int main(int argc, char** argv) { return cuttle::apps::Main(argc, argv); }
