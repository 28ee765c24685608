#include "engine/script_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
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

// What the child needs between clone and execve, prepared by the parent (the child shares its
// memory and may only make system calls).
struct ChildSetup {
  const char* program;
  char* const* argv;
  char* const* envp;
  int out_fd;  // becomes stdout
  int err_fd;  // becomes stderr
  int dir_fd;  // the working folder
  int fd3;     // becomes descriptor 3, or -1
  pid_t parent;
};

// Runs in the child, on its own small stack, in the parent's address space (CLONE_VM |
// CLONE_VFORK: the parent's thread waits until execve or _exit). Nothing here allocates, locks or
// writes memory the parent reads, but errno.
int ChildMain(void* arg) {
  const ChildSetup& c = *static_cast<const ChildSetup*>(arg);
  // No handler of the node may run here (it would run on the node's memory): caught signals go
  // back to their default before any is unblocked. Ignored ones too (the node ignores SIGPIPE): a
  // script gets the usual defaults (`yes | head -1` ends quietly), however the node was started.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    if (::sigaction(sig, nullptr, &sa) != 0 || sa.sa_handler == SIG_DFL) continue;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
  }
  ::setpgid(0, 0);
  // The script dies with the node: a killed node must not leave work running that another node
  // is about to take over.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != c.parent) ::_exit(137);
  // Before descriptor 3 is replaced: the folder's may be 3.
  if (::fchdir(c.dir_fd) != 0) ::_exit(126);
  ::dup2(c.out_fd, 1);
  ::dup2(c.err_fd, 2);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  if (c.fd3 == 3) {
    ::fcntl(3, F_SETFD, 0);  // dup2 onto itself would leave it close-on-exec
  } else if (c.fd3 >= 0) {
    ::dup2(c.fd3, 3);
  }
  ::syscall(SYS_close_range, c.fd3 >= 0 ? 4 : 3, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(c.program, c.argv, c.envp);
  ::_exit(127);
}

// Starts the program in a new process group, in the working folder, with the given environment,
// stdin from /dev/null and no other descriptor of the node (but spec.fd3).
//
// Not fork(): the node is a large multi-threaded process, and copying its page tables (then
// taking copy-on-write faults on every thread) cost several ms per script under load. The child
// shares the parent's memory until execve, as posix_spawn does (which cannot set
// PR_SET_PDEATHSIG).
Result<Child> Spawn(const ProcessSpec& spec) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Fail(Error::Io("pipe failed"));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {out_pipe[0], out_pipe[1]}) ::close(fd);
    return Fail(Error::Io("pipe failed"));
  }

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
  ChildSetup setup{.program = spec.program.c_str(),
                   .argv = argv.data(),
                   .envp = envp.data(),
                   .out_fd = out_pipe[1],
                   .err_fd = err_pipe[1],
                   .dir_fd = spec.dir_fd,
                   .fd3 = spec.fd3,
                   .parent = ::getpid()};

  // The child's stack, on this thread's (which is suspended while the child runs).
  alignas(16) std::array<char, 32 * 1024> stack;
  // Every signal blocked across clone, so that none is handled in the child before ChildMain
  // has reset the handlers.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid =
      ::clone(ChildMain, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &setup);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    for (int fd : {out_pipe[0], err_pipe[0]}) ::close(fd);
    return Fail(Error::Io(fmt::format("cannot start a process: {}", std::strerror(clone_errno))));
  }
  ::setpgid(pid, pid);  // the child did it; this fails harmlessly once it has exec'd
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
