// RunProcess: runs one program the way a step's script must run — in its own working folder and
// process group, with exactly the environment it is given, stdin from /dev/null, no other
// descriptor of the node but the one it is handed as descriptor 3, every signal at its default
// action and none blocked, killed with the node (PR_SET_PDEATHSIG) — and streams its
// stdout and stderr line by line (LineSplitter: lines cut at LineSplitter::kMaxLine bytes). The
// child is started without copying the node's address space (clone with CLONE_VM|CLONE_VFORK,
// as posix_spawn does).
//
// It knows nothing of Octopus: the step runner (step_runner.h) builds the command and reads the
// lines. One call runs one process to its end; the hooks are invoked on the calling thread.
// Thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "engine/line_splitter.h"

namespace cuttle::engine {

struct ProcessSpec {
  std::string program;            // an absolute path, executed as is (no PATH search)
  std::vector<std::string> args;  // argv[1...]; argv[0] is the program's file name
  int dir_fd = -1;                // the working folder, opened by the caller (not closed here)
  std::vector<std::string> env;   // "NAME=value", the whole environment
  int fd3 = -1;  // a descriptor the program gets as its descriptor 3 (not closed here), or -1
};

struct ProcessHooks {
  // A line of stdout or stderr, or a piece of a long one: `continues_line` when it continues the
  // line of the piece before it (LineSplitter::continues_line).
  using OnLine = std::function<void(std::string_view line, bool continues_line)>;
  OnLine on_stdout;
  OnLine on_stderr;
  // Asked at least every 50 ms while the process runs; a non-empty answer kills the process
  // group with that reason.
  std::function<std::string()> should_stop;
};

struct ProcessExit {
  int exit_code = 0;          // the exit code, or 128+signal
  std::string killed_reason;  // should_stop's answer, if it killed the process
};

// Runs the process to its end. The whole process group is killed once the process exits (a
// background child that holds the pipes open does not keep the step alive). Errors only when the
// process could not be started.
Result<ProcessExit> RunProcess(const ProcessSpec& spec, const ProcessHooks& hooks);

}  // namespace cuttle::engine
