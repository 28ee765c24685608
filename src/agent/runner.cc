#include "agent/runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/artifacts.h"
#include "core/clock.h"
#include "core/json.h"
#include "engine/action_runner.h"
#include "engine/octostache.h"
#include "storage/storage.h"

namespace cuttle::agent {

namespace {

std::atomic<bool> g_terminate{false};

void OnTerminate(int) { g_terminate.store(true); }

// The name the package file had in the feed (the envelope's FileName), or one made from its id,
// version and first bytes when the envelope has none that is usable.
std::string PackageFileName(const agentwire::PackageInfo& p, const std::string& path) {
  if (!p.file_name.empty() && storage::IsPlainFileName(p.file_name)) return p.file_name;
  std::string magic(4, '\0');
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    magic.resize(std::fread(magic.data(), 1, magic.size(), f));
    std::fclose(f);
  }
  std::string ext = ".tar";
  if (magic.starts_with("PK")) {
    ext = ".zip";
  } else if (magic.starts_with("\x1f\x8b")) {
    ext = ".tar.gz";
  } else if (magic.starts_with("BZh")) {
    ext = ".tar.bz2";
  }
  std::string name = fmt::format("{}.{}{}", p.package_id, p.version, ext);
  return storage::IsPlainFileName(name) ? name : "package" + ext;
}

engine::ActionRequest RequestOf(const agentwire::Envelope& e, const std::string& home,
                                engine::Evaluator& evaluator) {
  engine::ActionRequest r;
  r.variables = e.variables;
  r.env = e.env;
  r.substitute = [&evaluator](std::string_view text) {
    auto v = evaluator.Evaluate(text);
    return v ? *v : std::string(text);
  };
  if (e.kind == agentwire::CommandKind::kPackage && e.package) {
    r.kind = engine::ActionRequest::Kind::kPackage;
    r.package_path = PackagePath(home, *e.package);
    r.package_id = e.package->package_id;
    r.package_version = e.package->version;
  } else {
    r.kind = engine::ActionRequest::Kind::kScript;
    r.script_body = e.script_body;
    r.syntax = e.syntax;
  }
  return r;
}

agentwire::CommandResult Run(const agentwire::Envelope& e, const std::string& home,
                             const CommandJournal& journal, SpoolWriter& spool) {
  agentwire::CommandResult result;
  engine::Evaluator evaluator(e.variables);
  engine::ActionRequest request = RequestOf(e, home, evaluator);
  const std::string work_dir = home + "/work/" + journal.id();
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  std::filesystem::create_directories(work_dir, ec);
  if (request.kind == engine::ActionRequest::Kind::kPackage) {
    // The conventions tell a package's format by its file name; the cache names files by digest.
    const std::string link = work_dir + "/" + PackageFileName(*e.package, request.package_path);
    std::filesystem::create_symlink(request.package_path, link, ec);
    if (!ec) request.package_path = link;
  }
  const std::string cancel_path = journal.PathOf("cancel");
  engine::StepCallbacks callbacks;
  callbacks.on_line = [&](engine::LogCategory c, std::string_view text) { spool.Line(c, text); };
  callbacks.should_stop = [&]() -> std::string {
    struct stat st {};
    if (g_terminate.load() || ::stat(cancel_path.c_str(), &st) == 0) {
      return std::string(kCanceledReason);
    }
    return {};
  };
  const auto timeout = std::chrono::milliseconds(std::max<int64_t>(e.timeout_seconds, 1) * 1000);
  auto outcome = engine::RunAction(request, callbacks, work_dir, home, timeout);
  if (outcome && !outcome->artifacts.empty()) {
    // Staged into the journal before the folder goes; the agent uploads them (artifacts.h).
    auto warn = [&](const std::string& w) { spool.Line(engine::LogCategory::kWarning, w); };
    if (outcome->killed_reason.empty()) {
      StageArtifacts(work_dir, outcome->artifacts, journal, agentwire::kMaxStagedArtifactBytes,
                     warn);
    } else {
      warn(fmt::format("{} artifact(s) were not collected: the step was stopped",
                       outcome->artifacts.size()));
    }
  }
  std::filesystem::remove_all(work_dir, ec);
  if (!outcome) {
    spool.Line(engine::LogCategory::kError, outcome.error().message());
    result.state = agentwire::ResultState::kFailed;
    result.outcome.exit_code = 1;
    result.outcome.result_message = outcome.error().message();
    result.message = outcome.error().message();
    return result;
  }
  result.outcome = std::move(*outcome);
  if (result.outcome.killed_reason == kCanceledReason) {
    result.state = agentwire::ResultState::kCanceled;
  } else if (result.outcome.succeeded()) {
    result.state = agentwire::ResultState::kSucceeded;
  } else {
    result.state = agentwire::ResultState::kFailed;
  }
  result.message = !result.outcome.killed_reason.empty() ? result.outcome.killed_reason
                                                         : result.outcome.result_message;
  if (e.kind == agentwire::CommandKind::kHealth) result.facts = HealthFacts(home);
  return result;
}

void WritePid(int report_fd) {
  if (report_fd < 0) return;
  std::string pid = std::to_string(::getpid()) + "\n";
  (void)!::write(report_fd, pid.data(), pid.size());
  ::close(report_fd);
}

}  // namespace

SpoolWriter::SpoolWriter(const CommandJournal& journal, uint64_t max_bytes,
                         const core::Clock& clock)
    : root_(journal.dir().substr(0, journal.dir().rfind('/'))),
      command_id_(journal.id()),
      max_bytes_(max_bytes),
      clock_(clock),
      fd_(::open(journal.PathOf("spool.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                 0600)) {
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
  if (!journal.chunks().empty() && journal.state().acked_seq >= 0) Refresh();
}

SpoolWriter::~SpoolWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void SpoolWriter::Refresh() {
  next_refresh_ = clock_.SteadyNow() + kRecheck;
  auto journal = CommandJournal::Open(root_, command_id_);
  if (!journal) return;
  const int64_t acked = journal->state().acked_seq;
  for (const auto& mark : journal->chunks()) {
    if (mark.seq == acked) acked_end_ = std::max(acked_end_, mark.offset + mark.length);
  }
}

void SpoolWriter::Write(const std::string& encoded) {
  if (fd_ < 0) return;
  if (storage::WriteAll(fd_, encoded, "spool")) size_ += encoded.size();
}

void SpoolWriter::Line(engine::LogCategory c, std::string_view text) {
  agentwire::LogLine line{c, std::string(text),
                          core::ToUnixMillis(core::SystemClock::Instance().Now())};
  const std::string encoded = agentwire::EncodeLine(line);
  auto over = [&] { return size_ - std::min(size_, acked_end_) + encoded.size() > max_bytes_; };
  if (over() && clock_.SteadyNow() >= next_refresh_) Refresh();
  if (over()) {
    ++dropped_lines_;
    dropped_bytes_ += text.size();
    return;
  }
  SayDropped();
  Write(encoded);
}

void SpoolWriter::Finish() { SayDropped(); }

void SpoolWriter::SayDropped() {
  if (dropped_lines_ == 0) return;
  agentwire::LogLine line{
      engine::LogCategory::kWarning,
      fmt::format("{} line(s) of output ({} bytes) were dropped: the agent's spool was full "
                  "({} bytes not yet sent) while the server was unreachable",
                  dropped_lines_, dropped_bytes_, max_bytes_),
      core::ToUnixMillis(core::SystemClock::Instance().Now())};
  dropped_lines_ = 0;
  dropped_bytes_ = 0;
  Write(agentwire::EncodeLine(line));  // past the cap if need be: it is one line
}

Result<uint64_t> ParseByteSize(std::string_view text, std::string_view flag) {
  auto bad = [&] {
    return Fail(Error::InvalidArgument(
        fmt::format("{} must be a positive number of bytes, optionally with K, M or G (got '{}')",
                    flag, text)));
  };
  std::string_view digits = text;
  int shift = 0;
  if (!digits.empty()) {
    switch (std::toupper(static_cast<unsigned char>(digits.back()))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos ||
      digits.size() > 15) {
    return bad();
  }
  uint64_t n = std::strtoull(std::string(digits).c_str(), nullptr, 10);
  if (n == 0 || n > (uint64_t{1} << (50 - shift))) return bad();
  return n << shift;
}

std::string PackagePath(const std::string& home, const agentwire::PackageInfo& p) {
  std::string sha;
  for (char c : p.sha256) sha += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return home + "/packages/" + sha;
}

nlohmann::json HealthFacts(const std::string& home) {
  nlohmann::json facts = nlohmann::json::object();
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) facts["Hostname"] = host;
  utsname u{};
  if (::uname(&u) == 0) {
    facts["OperatingSystem"] = fmt::format("{} {}", u.sysname, u.release);
    facts["Architecture"] = u.machine;
  }
  facts["AgentVersion"] = CUTTLE_VERSION;
  struct statvfs fs {};
  if (::statvfs(home.c_str(), &fs) == 0) {
    facts["FreeDiskBytes"] = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  return facts;
}

namespace {

// Field `n` (1-based, n >= 3) of /proc/<pid>/stat; empty when there is no such process.
std::string StatField(int pid, int n) {
  if (pid <= 0) return "";
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Field 2 (comm) may hold spaces and parentheses: count fields after its last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  for (int i = 3; i <= n; ++i) {
    if (!(rest >> field)) return "";
  }
  return field;
}

}  // namespace

uint64_t ProcessStartTime(int pid) {
  return std::strtoull(StatField(pid, 22).c_str(), nullptr, 10);
}

int KillSession(int sid, int sig) {
  if (sid <= 1 || sid == ::getsid(0)) return 0;  // never init's, never our own
  int killed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    if (std::atoi(StatField(pid, 6).c_str()) == sid && ::kill(pid, sig) == 0) ++killed;
  }
  return killed;
}

bool RunnerAlive(const CommandJournal& journal) {
  const std::string path = journal.PathOf("runner.lock");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // never created: no runner ever got going
  bool alive = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases our probe's lock, if we got it
  return alive;
}

Result<int> SpawnRunner(const std::string& self_exe, const std::string& home,
                        const std::string& command_id, uint64_t max_spool_bytes) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(Error(ErrorCode::kIo, fmt::format("pipe: {}", std::strerror(errno))));
  }
  // Everything the child needs is built before fork: between fork and exec only
  // async-signal-safe calls (this process has threads).
  const std::string report = "3";
  std::vector<std::string> args = {self_exe,
                                   "exec",
                                   "--home",
                                   home,
                                   "--command",
                                   command_id,
                                   "--report-fd",
                                   report,
                                   "--max-spool-bytes",
                                   std::to_string(max_spool_bytes)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Fail(Error(ErrorCode::kIo, fmt::format("fork: {}", std::strerror(errno))));
  }
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(fds[1], 3) < 0) ::_exit(127);  // dup2 clears O_CLOEXEC on descriptor 3
    ::close_range(4, ~0U, 0);                 // the agent's sockets and files stay with it
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  // The grandchild writes its pid once it holds the lock; EOF without one: it failed to start.
  std::string got;
  pollfd p{fds[0], POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    int r = ::poll(&p, 1, std::max(left, 1));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[32];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.find('\n') != std::string::npos) break;
  }
  ::close(fds[0]);
  int pid = std::atoi(got.c_str());
  if (pid <= 0) {
    return Fail(Error(ErrorCode::kIo,
                      fmt::format("the runner of {} did not start (exit status {})", command_id,
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1)));
  }
  return pid;
}

int ExecRunner(const std::string& home, const std::string& command_id, int report_fd,
               bool foreground, uint64_t max_spool_bytes) {
  if (!foreground) {
    // setsid in the first child (not a group leader), fork again and let it exit: the runner is
    // in a session and group of its own, never a session leader, and init's child.
    if (::setsid() < 0) return 1;
    pid_t grandchild = ::fork();
    if (grandchild < 0) return 1;
    if (grandchild > 0) ::_exit(0);
  }
  // The usual umask: deployed files must be readable by the services that use them. The
  // journal's own files are created 0600 explicitly.
  ::umask(022);
  const std::string root = home + "/journal";
  auto journal = CommandJournal::Open(root, command_id);
  if (!journal) {
    std::fprintf(stderr, "cuttle-agent exec: %s\n", journal.error().message().c_str());
    return 1;
  }
  int lock = ::open(journal->PathOf("runner.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) {
    std::fprintf(stderr, "cuttle-agent exec: %s has a runner already\n", command_id.c_str());
    return 1;
  }
  // A runner runs a command once: a second exec of the same command (a second agent, a retry)
  // finds result.json or no command.json and does nothing.
  struct stat st {};
  if (::stat(journal->PathOf("result.json").c_str(), &st) == 0) return 0;
  auto text = ReadWholeFile(journal->PathOf("command.json"));
  if (!text) {
    std::fprintf(stderr, "cuttle-agent exec: %s\n", text.error().message().c_str());
    return 1;
  }
  // The envelope holds sensitive values: it is read once and never left lying about.
  ::unlink(journal->PathOf("command.json").c_str());
  storage::SyncDirectory(journal->dir());
  if (!foreground) {
    int null = ::open("/dev/null", O_RDWR);
    int log = ::open(journal->PathOf("runner.log").c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(log >= 0 ? log : null, 2);
    }
  }
  WritePid(report_fd);
  struct sigaction sa {};
  sa.sa_handler = OnTerminate;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);

  SpoolWriter spool(*journal, max_spool_bytes);
  agentwire::CommandResult result;
  auto json = core::ParseJson(*text);
  auto envelope =
      json ? agentwire::EnvelopeFromJson(*json) : Result<agentwire::Envelope>(Fail(json.error()));
  if (!envelope) {
    spool.Line(engine::LogCategory::kError, envelope.error().message());
    result.state = agentwire::ResultState::kFailed;
    result.outcome.exit_code = 1;
    result.message = fmt::format("the command could not be read: {}", envelope.error().message());
  } else {
    result = Run(*envelope, home, *journal, spool);
  }
  spool.Finish();
  auto wrote = WriteFileDurably(journal->PathOf("result.json"),
                                agentwire::ResultToJson(result).dump() + "\n");
  if (!wrote) {
    std::fprintf(stderr, "cuttle-agent exec: %s\n", wrote.error().message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace cuttle::agent
