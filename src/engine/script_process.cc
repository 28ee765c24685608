#include "engine/script_process.h"

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

namespace cuttle::engine {
namespace {

// A started process (group leader) and the read ends of its stdout and stderr.
struct Child {
  pid_t pid;
  int out_fd;
  int err_fd;
};

// Starts the program in a new process group, in the working folder, with the given environment,
// stdin from /dev/null and no other descriptor of the node.
Result<Child> Spawn(const ProcessSpec& spec) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Fail(Error::Io("pipe failed"));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {out_pipe[0], out_pipe[1]}) ::close(fd);
    return Fail(Error::Io("pipe failed"));
  }

  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<std::string> env_strings = spec.env;
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings;
  arg_strings.push_back(spec.program.substr(spec.program.rfind('/') + 1));
  arg_strings.insert(arg_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int dir_fd = spec.dir_fd;
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
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
    ::execve(spec.program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  return Child{pid, out_pipe[0], err_pipe[0]};
}

int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<ProcessExit> RunProcess(const ProcessSpec& spec, const ProcessHooks& hooks) {
  CUTTLE_TRY(auto child, Spawn(spec));
  const pid_t pid = child.pid;

  ProcessExit result;
  LineSplitter out_lines, err_lines;
  LineSplitter::OnLine on_stdout = [&](std::string_view line) {
    if (hooks.on_stdout) hooks.on_stdout(line, out_lines.continues_line());
  };
  LineSplitter::OnLine on_stderr = [&](std::string_view line) {
    if (hooks.on_stderr) hooks.on_stderr(line, err_lines.continues_line());
  };
  auto feed = [&](int fd, std::string_view data) {
    if (fd == child.out_fd) {
      out_lines.Feed(data, on_stdout);
    } else {
      err_lines.Feed(data, on_stderr);
    }
  };
  auto flush = [&] {
    out_lines.Flush(on_stdout);
    err_lines.Flush(on_stderr);
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
    if (hooks.should_stop && result.killed_reason.empty()) {
      if (auto reason = hooks.should_stop(); !reason.empty()) {
        result.killed_reason = std::move(reason);
        ::kill(-pid, SIGKILL);
      }
    }
    // A background process holding the pipes open must not keep a finished script alive.
    if (open_fds > 0) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        ::kill(-pid, SIGKILL);
        result.exit_code = ExitCodeOf(status);
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
        flush();
        return result;
      }
    }
  }
  if (open_fds > 0) ::kill(-pid, SIGKILL);  // poll failed: stop rather than wait blind
  for (auto& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  flush();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::kill(-pid, SIGKILL);  // anything the script left behind in its group
  result.exit_code = ExitCodeOf(status);
  return result;
}

}  // namespace cuttle::engine
