#include "engine/step_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/strings.h"
#include "engine/bootstrap.h"
#include "engine/line_splitter.h"
#include "engine/masker.h"
#include "engine/script_env.h"
#include "engine/script_process.h"
#include "engine/service_messages.h"

namespace cuttle::engine {

std::optional<ScriptSyntax> ParseScriptSyntax(std::string_view name) {
  if (core::EqualsIgnoreCase(name, "Bash")) return ScriptSyntax::kBash;
  if (core::EqualsIgnoreCase(name, "Python")) return ScriptSyntax::kPython;
  return std::nullopt;
}

namespace {

constexpr std::string_view kServiceMessagePrefix = "##octopus[";

// The runner's files in the step's working folder, removed (never followed) when it goes out of
// scope (a step's substituted script is a secret at rest), and its in-memory files.
class StepFiles {
 public:
  ~StepFiles() {
    for (const std::string& name : created_) ::unlinkat(dir_fd_, name.c_str(), 0);
    if (memory_fd_ >= 0) ::close(memory_fd_);
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }

  Result<void> Open(const std::string& work_dir) {
    dir_fd_ = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir_fd_ < 0) {
      return Fail(
          Error::Io(fmt::format("cannot open the working folder: {}", std::strerror(errno))));
    }
    return {};
  }

  // Writes `text` to a new file `name`: never through a symlink or over a file someone planted.
  Result<void> Write(std::string_view name, std::string_view text) {
    std::string file(name);
    int fd =
        ::openat(dir_fd_, file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail(Error::Io(
          fmt::format("cannot create {} in the working folder: {}", file, std::strerror(errno))));
    }
    created_.push_back(file);
    auto written = WriteAll(fd, file, text);
    ::close(fd);
    return written;
  }

  // `text` in an anonymous memory file (never on disk, so nothing to delete), open for reading
  // from its start; closed with the folder.
  Result<int> InMemory(std::string_view name, std::string_view text) {
    int fd = ::memfd_create(std::string(name).c_str(), MFD_CLOEXEC);
    if (fd < 0) {
      return Fail(Error::Io(fmt::format("cannot create {}: {}", name, std::strerror(errno))));
    }
    memory_fd_ = fd;
    CUTTLE_TRY_VOID(WriteAll(fd, name, text));
    if (::lseek(fd, 0, SEEK_SET) != 0) {
      return Fail(Error::Io(fmt::format("cannot read back {}: {}", name, std::strerror(errno))));
    }
    return fd;
  }

  int dir_fd() const { return dir_fd_; }

 private:
  // Writes all of `text` to `fd` (not closed here).
  static Result<void> WriteAll(int fd, std::string_view name, std::string_view text) {
    while (!text.empty()) {
      ssize_t n = ::write(fd, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Fail(Error::Io(fmt::format("cannot write {}: {}", name, std::strerror(errno))));
      }
      text.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  int dir_fd_ = -1;
  int memory_fd_ = -1;
  std::vector<std::string> created_;
};

// The interpreter's absolute path: bash at its fixed place, python3 found on the script's PATH.
Result<std::string> Interpreter(ScriptSyntax syntax, const std::vector<std::string>& env) {
  if (syntax == ScriptSyntax::kBash) return std::string("/bin/bash");
  std::string_view path;
  for (const std::string& e : env) {
    if (e.starts_with("PATH=")) path = std::string_view(e).substr(5);
  }
  for (const std::string& dir : core::Split(path, ':')) {
    std::string candidate = dir + "/python3";
    if (dir.starts_with('/') && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Fail(Error::Unavailable("python3 was not found on the script's PATH"));
}

std::optional<int64_t> ParseLength(const ServiceMessage& m) {
  auto text = m.Get("length");
  if (!text) return std::nullopt;
  auto n = core::ParseInt(core::Trim(*text));
  if (!n || *n < 0) return std::nullopt;
  return *n;
}

std::optional<LogCategory> LevelOf(std::string_view name) {
  if (name == "stdout-verbose") return LogCategory::kVerbose;
  if (name == "stdout-default") return LogCategory::kInfo;
  if (name == "stdout-highlight") return LogCategory::kHighlight;
  if (name == "stdout-wait") return LogCategory::kWait;
  if (name == "stdout-warning") return LogCategory::kWarning;
  if (name == "stdout-error") return LogCategory::kError;
  return std::nullopt;
}

// Reads a running step's output: acts on its service messages, masks and forwards its lines, and
// gathers what goes into the outcome.
class StepOutput {
 public:
  StepOutput(const StepScript& script, const StepCallbacks& callbacks, StepOutcome& outcome)
      : script_(script), callbacks_(callbacks), outcome_(outcome) {
    for (const std::string& value : script.variables.SensitiveValues()) masker_.Add(value);
  }

  void OnStdout(std::string_view line, bool continues_line) {
    if (continues_line) {
      if (!dropping_message_) Emit(level_, line);
      return;
    }
    dropping_message_ = false;
    if (auto m = ParseServiceMessage(line)) {
      Handle(*m);
      return;  // service messages are not shown as text
    }
    // A message longer than a line piece arrives cut: none of it may reach the log (its values
    // may be secrets, in base64 the masker cannot see).
    if (line.size() == LineSplitter::kMaxLine &&
        core::Trim(line).starts_with(kServiceMessagePrefix)) {
      dropping_message_ = true;
      Emit(LogCategory::kError,
           fmt::format("A service message longer than {} bytes was ignored.", line.size()));
      return;
    }
    Emit(level_, line);
  }

  // stderr is Error text, but for `mask`: the bootstrap writes it to both streams, so a secret
  // the script then writes to stderr is masked even when stderr is read first.
  void OnStderr(std::string_view line, bool continues_line) {
    if (!continues_line) {
      if (auto m = ParseServiceMessage(line); m && m->name == service_message::kMask) {
        Handle(*m);
        return;
      }
    }
    outcome_.wrote_to_stderr = true;
    Emit(LogCategory::kError, line);
  }

 private:
  void Emit(LogCategory level, std::string_view line) {
    if (callbacks_.on_line) callbacks_.on_line(level, masker_.Apply(line));
  }

  void Handle(const ServiceMessage& m) {
    namespace sm = service_message;
    if (auto level = LevelOf(m.name)) {
      level_ = *level;
    } else if (m.name == sm::kSetVariable) {
      SetVariable(m);
    } else if (m.name == sm::kCreateArtifact) {
      CreateArtifact(m);
    } else if (m.name == sm::kResultMessage) {
      outcome_.result_message = masker_.Apply(m.Get("message").value_or(""));
    } else if (m.name == sm::kProgress) {
      Progress(m);
    } else if (m.name == sm::kMask) {
      masker_.Add(m.Get("value").value_or(""));
    }
    // Other messages (Octopus server features such as set-environmentstate) are ignored.
  }

  void SetVariable(const ServiceMessage& m) {
    std::string name = m.Get("name").value_or("");
    if (core::Trim(name).empty()) return;
    std::string value = m.Get("value").value_or("");
    bool sensitive = core::EqualsIgnoreCase(core::Trim(m.Get("sensitive").value_or("")), "True");
    if (sensitive) masker_.Add(value);
    auto& outputs = outcome_.output_variables;
    auto at = output_index_.find(name);
    if (at != output_index_.end()) {
      outputs[at->second].value = std::move(value);
      outputs[at->second].sensitive = sensitive;
    } else if (outputs.size() < script_.max_output_variables) {
      output_index_.emplace(name, outputs.size());
      outputs.push_back({std::move(name), std::move(value), sensitive});
    } else {
      ++outcome_.refused_output_variables;
    }
  }

  void CreateArtifact(const ServiceMessage& m) {
    if (outcome_.artifacts.size() >= script_.max_artifacts) {
      ++outcome_.refused_artifacts;
      return;
    }
    // An empty path is kept: whoever collects says why it cannot be collected.
    std::string path = m.Get("path").value_or("");
    std::string name = m.Get("name").value_or("");
    if (name.empty()) name = path.substr(path.rfind('/') + 1);
    outcome_.artifacts.push_back({std::move(path), masker_.Apply(name), ParseLength(m)});
  }

  void Progress(const ServiceMessage& m) {
    auto percentage = core::ParseInt(core::Trim(m.Get("percentage").value_or("")));
    if (!percentage) return;
    StepProgress p{static_cast<int>(std::clamp<int64_t>(*percentage, 0, 100)),
                   masker_.Apply(m.Get("message").value_or(""))};
    if (callbacks_.on_progress) callbacks_.on_progress(p.percentage, p.message);
    outcome_.progress = std::move(p);
  }

  const StepScript& script_;
  const StepCallbacks& callbacks_;
  StepOutcome& outcome_;
  Masker masker_;
  LogCategory level_ = LogCategory::kInfo;
  bool dropping_message_ = false;  // the rest of an over-long service message's line is dropped
  std::map<std::string, size_t, NameLess> output_index_;  // name -> index in output_variables
};

}  // namespace

Result<StepOutcome> RunStep(const StepScript& script, const StepCallbacks& callbacks) {
  const bool bash = script.syntax == ScriptSyntax::kBash;
  std::map<std::string, std::string> step_env = script.env;
  if (!bash) step_env.emplace("PYTHONIOENCODING", "utf-8");
  std::vector<std::string> env = ScriptEnvironment(step_env, ProcessEnvironment());
  CUTTLE_TRY(std::string interpreter, Interpreter(script.syntax, env));

  StepFiles files;
  CUTTLE_TRY_VOID(files.Open(script.work_dir));
  std::string body = script.substitute ? script.substitute(script.body) : script.body;
  CUTTLE_TRY_VOID(files.Write(bash ? "script.sh" : "script.py", body));
  // bash reads its bootstrap from the command line; python's is a file (its folder is the
  // script's sys.path[0]).
  if (!bash) CUTTLE_TRY_VOID(files.Write("bootstrap.py", PythonBootstrap()));
  // The variables never reach the disk: no file to delete, no process to delete it.
  CUTTLE_TRY(int variables_fd,
             files.InMemory(kVariablesFile, EncodeVariablesFile(script.variables)));

  ProcessSpec spec{.program = interpreter,
                   .args = bash ? std::vector<std::string>{"-c", BashBootstrap(), "bootstrap.sh"}
                                : std::vector<std::string>{"-u", "-B", "bootstrap.py"},
                   .dir_fd = files.dir_fd(),
                   .env = std::move(env),
                   .fd3 = variables_fd};
  StepOutcome outcome;
  StepOutput output(script, callbacks, outcome);
  const core::Clock& clock = *script.clock;
  const auto deadline = clock.SteadyNow() + script.timeout;
  ProcessHooks hooks{
      .on_stdout = [&](std::string_view line, bool continues) { output.OnStdout(line, continues); },
      .on_stderr = [&](std::string_view line, bool continues) { output.OnStderr(line, continues); },
      .should_stop = [&]() -> std::string {
        if (callbacks.should_stop) {
          if (auto reason = callbacks.should_stop(); !reason.empty()) return reason;
        }
        if (clock.SteadyNow() > deadline) {
          outcome.timed_out = true;
          return fmt::format("The script did not finish within {} ms and was stopped.",
                             script.timeout.count());
        }
        return "";
      }};
  CUTTLE_TRY(ProcessExit exit, RunProcess(spec, hooks));
  outcome.exit_code = exit.exit_code;
  outcome.killed_reason = std::move(exit.killed_reason);
  return outcome;
}

}  // namespace cuttle::engine
