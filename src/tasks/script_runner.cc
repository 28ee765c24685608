#include "tasks/script_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/strings.h"
#include "storage/storage.h"
#include "tasks/line_splitter.h"
#include "tasks/script_env.h"

namespace cuttle::tasks {

std::optional<ServiceMessage> ParseServiceMessage(std::string_view line) {
  line = core::Trim(line);
  constexpr std::string_view kPrefix = "##octopus[";
  if (line.substr(0, kPrefix.size()) != kPrefix || line.back() != ']') return std::nullopt;
  std::string_view inner = line.substr(kPrefix.size(), line.size() - kPrefix.size() - 1);
  ServiceMessage m;
  size_t i = 0;
  while (i < inner.size() && inner[i] != ' ') ++i;
  m.name = std::string(inner.substr(0, i));
  if (m.name.empty()) return std::nullopt;
  while (i < inner.size()) {
    while (i < inner.size() && inner[i] == ' ') ++i;
    size_t eq = inner.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(core::Trim(inner.substr(i, eq - i)));
    if (eq + 1 >= inner.size() || inner[eq + 1] != '\'') return std::nullopt;
    size_t close = inner.find('\'', eq + 2);
    if (close == std::string_view::npos) return std::nullopt;
    auto raw = inner.substr(eq + 2, close - eq - 2);
    auto decoded = core::Base64Decode(raw);
    m.attributes[key] = decoded ? *decoded : std::string(raw);
    i = close + 1;
  }
  return m;
}

const std::string& BashBootstrap() {
  static const std::string kBootstrap =
      R"BASH(# Octopus-compatible helpers for bash scripts (Cuttle)
declare -A octopus_parameters=()
encode_servicemessagevalue() { echo -n "$1" | base64 -w0; }
decode_servicemessagevalue() { echo -n "$1" | base64 -d; }
get_octopusvariable() { echo "${octopus_parameters[$1]}"; }
set_octopusvariable() {
  local sensitive=""
  if [ "$3" = "-sensitive" ]; then sensitive=" sensitive='$(encode_servicemessagevalue True)'"; fi
  echo "##octopus[setVariable name='$(encode_servicemessagevalue "$1")' value='$(encode_servicemessagevalue "$2")'${sensitive}]"
}
new_octopusartifact() {
  local path="$1"
  local name="${2:-$(basename "$1")}"
  if [ ! -e "$path" ]; then
    echo "There is no file at '$path' to collect as an artifact." >&2
    return 1
  fi
  local full
  full=$(realpath "$path")
  local length
  length=$(stat -c %s "$full")
  echo "##octopus[createArtifact path='$(encode_servicemessagevalue "$full")' name='$(encode_servicemessagevalue "$name")' length='$(encode_servicemessagevalue "$length")']"
}
fail_step() {
  if [ -n "$1" ]; then echo "##octopus[resultMessage message='$(encode_servicemessagevalue "$1")']"; fi
  exit 1
}
update_progress() {
  echo "##octopus[progress percentage='$(encode_servicemessagevalue "$1")' message='$(encode_servicemessagevalue "$2")']"
}
write_verbose() { echo "##octopus[stdout-verbose]"; echo "$1"; echo "##octopus[stdout-default]"; }
write_highlight() { echo "##octopus[stdout-highlight]"; echo "$1"; echo "##octopus[stdout-default]"; }
write_wait() { echo "##octopus[stdout-wait]"; echo "$1"; echo "##octopus[stdout-default]"; }
write_warning() { echo "##octopus[stdout-warning]"; echo "$1"; echo "##octopus[stdout-default]"; }
write_error() { echo "##octopus[stdout-error]"; echo "$1"; echo "##octopus[stdout-default]"; }
source ./script.sh
)BASH";
  return kBootstrap;
}

namespace {

std::optional<LogCategory> LevelOf(std::string_view name) {
  if (name == "stdout-verbose") return LogCategory::kVerbose;
  if (name == "stdout-default") return LogCategory::kInfo;
  if (name == "stdout-highlight") return LogCategory::kHighlight;
  if (name == "stdout-wait") return LogCategory::kWait;
  if (name == "stdout-warning") return LogCategory::kWarning;
  if (name == "stdout-error") return LogCategory::kError;
  return std::nullopt;
}

// Writes `text` to a new file `name` in the directory `dir_fd`: never through a symlink or over
// a file someone planted there.
Result<void> WriteNewFile(int dir_fd, const char* name, std::string_view text) {
  int fd = ::openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(Error::Io(
        fmt::format("cannot create {} in the working folder: {}", name, std::strerror(errno))));
  }
  auto written = storage::WriteAll(fd, text, name);
  ::close(fd);
  return written;
}

// Opens the (existing) working folder and writes the script and the bootstrap into it.
Result<int> PrepareWorkDir(const ScriptOptions& options) {
  int dir_fd = ::open(options.work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir_fd < 0) {
    return Fail(Error::Io(fmt::format("cannot open the working folder: {}", std::strerror(errno))));
  }
  auto written = WriteNewFile(dir_fd, "script.sh", options.body);
  if (written) written = WriteNewFile(dir_fd, "bootstrap.sh", BashBootstrap());
  if (!written) {
    ::close(dir_fd);
    return Fail(written.error());
  }
  return dir_fd;
}

std::optional<int64_t> ParseLength(const std::map<std::string, std::string>& attributes) {
  auto it = attributes.find("length");
  if (it == attributes.end()) return std::nullopt;
  auto n = core::ParseInt(core::Trim(it->second));
  if (!n || *n < 0) return std::nullopt;
  return *n;
}

// A started script: its process (group leader) and the read ends of its stdout and stderr.
struct Child {
  pid_t pid;
  int out_fd;
  int err_fd;
};

// Writes the script into its folder and starts bash on it in a new process group, with the
// allow-listed environment, stdin from /dev/null and no other descriptor of the node.
Result<Child> Spawn(const ScriptOptions& options) {
  CUTTLE_TRY(int dir_fd, PrepareWorkDir(options));
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(dir_fd);
    return Fail(Error::Io("pipe failed"));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {dir_fd, out_pipe[0], out_pipe[1]}) ::close(fd);
    return Fail(Error::Io("pipe failed"));
  }

  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<std::string> env_strings = ScriptEnvironment(options.env, config::ProcessEnv());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string bash = "/bin/bash", arg0 = "bash", arg1 = "bootstrap.sh";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {dir_fd, out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return Fail(Error::Io(fmt::format("fork failed: {}", std::strerror(errno))));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // The script dies with the node: a killed node must not leave work running that another node
    // is about to take over.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(137);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (::fchdir(dir_fd) != 0) ::_exit(126);
    ::syscall(SYS_close_range, 3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(bash.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(dir_fd);
  return Child{pid, out_pipe[0], err_pipe[0]};
}

}  // namespace

Result<ScriptResult> RunScript(const ScriptOptions& options, const ScriptCallbacks& cb) {
  CUTTLE_TRY(auto child, Spawn(options));
  pid_t pid = child.pid;

  ScriptResult result;
  LogCategory level = LogCategory::kInfo;
  LineSplitter out_lines, err_lines;
  LineSplitter::OnLine on_stdout = [&](std::string_view line) {
    if (auto m = ParseServiceMessage(line)) {
      if (auto l = LevelOf(m->name)) {
        level = *l;
      } else if (m->name == "createArtifact") {
        if (cb.on_artifact) {
          cb.on_artifact(m->attributes["path"], m->attributes["name"], ParseLength(m->attributes));
        }
      } else if (m->name == "resultMessage") {
        result.result_message = m->attributes["message"];
      }
      return;  // service messages are not shown as text
    }
    if (cb.on_line) cb.on_line(level, line);
  };
  LineSplitter::OnLine on_stderr = [&](std::string_view line) {
    if (cb.on_line) cb.on_line(LogCategory::kError, line);
  };
  auto feed = [&](int fd, std::string_view data) {
    if (fd == child.out_fd) {
      out_lines.Feed(data, on_stdout);
    } else {
      err_lines.Feed(data, on_stderr);
    }
  };

  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto kill_group = [&](std::string reason) {
    if (result.killed_reason.empty()) {
      result.killed_reason = std::move(reason);
      ::kill(-pid, SIGKILL);
    }
  };
  pollfd fds[2] = {{child.out_fd, POLLIN, 0}, {child.err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[16 * 1024];
  while (open_fds > 0) {
    int n = ::poll(fds, 2, 50);
    if (n < 0 && errno != EINTR) break;
    for (auto& p : fds) {
      if (p.fd < 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t r = ::read(p.fd, buf, sizeof(buf));
      if (r > 0) {
        feed(p.fd, std::string_view(buf, static_cast<size_t>(r)));
      } else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        ::close(p.fd);
        p.fd = -1;
        --open_fds;
      }
    }
    if (cb.should_stop) {
      if (auto reason = cb.should_stop(); !reason.empty()) kill_group(reason);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill_group(fmt::format("The script did not finish within {} ms and was stopped.",
                             options.timeout.count()));
    }
    // A background process holding the pipes open must not keep a finished script alive.
    if (open_fds > 0) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        ::kill(-pid, SIGKILL);
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        for (auto& p : fds) {
          if (p.fd < 0) continue;
          ::fcntl(p.fd, F_SETFL, O_NONBLOCK);
          ssize_t r;
          while ((r = ::read(p.fd, buf, sizeof(buf))) > 0) {
            feed(p.fd, std::string_view(buf, static_cast<size_t>(r)));
          }
          ::close(p.fd);
          p.fd = -1;
        }
        out_lines.Flush(on_stdout);
        err_lines.Flush(on_stderr);
        return result;
      }
    }
  }
  out_lines.Flush(on_stdout);
  err_lines.Flush(on_stderr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::kill(-pid, SIGKILL);  // anything the script left behind in its group
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace cuttle::tasks
