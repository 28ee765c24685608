// ScriptRunner: runs a bash script the way Octopus runs a script step — with the Octopus bash
// helpers (reference-octopus-scripts.md) defined first, in its own working directory and process
// group, with a minimal environment (script_env.h), its stdout and stderr streamed line by line
// (lines cut at LineSplitter::kMaxLine bytes), and service messages on stdout honoured.
//
// One Run() per call; the callbacks are invoked on the calling thread. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "tasks/task_log.h"

namespace cuttle::tasks {

// One parsed "##octopus[name key='base64' ...]" line, values decoded.
struct ServiceMessage {
  std::string name;
  std::map<std::string, std::string> attributes;
};
// nullopt if the line is not a service message.
std::optional<ServiceMessage> ParseServiceMessage(std::string_view line);

// The bash helpers prepended to every script.
const std::string& BashBootstrap();

struct ScriptOptions {
  std::string body;
  // An existing, empty folder of the script's own (see CreateTaskDir): script.sh and
  // bootstrap.sh are created in it, never through a symlink or over an existing file.
  std::string work_dir;
  std::chrono::milliseconds timeout{3'600'000};
  // The step's variables (OCTOPUS_TASK_ID...). The script sees these and the allow-listed ones
  // of ScriptEnvironment, never the rest of the node's environment.
  std::map<std::string, std::string> env;
};

struct ScriptCallbacks {
  // A line of output at its category (stdout at the current level; stderr as Error).
  std::function<void(LogCategory, std::string_view)> on_line;
  // A createArtifact message: the file's path (absolute, or relative to the working directory),
  // the artifact's name and the length the script declared (nullopt if none or not a number).
  std::function<void(const std::string& path, const std::string& name,
                     std::optional<int64_t> length)>
      on_artifact;
  // Asked about every 50 ms; a non-empty answer kills the process group with that reason.
  std::function<std::string()> should_stop;
};

struct ScriptResult {
  int exit_code = 0;           // the script's exit code, or 128+signal
  std::string killed_reason;   // why it was killed, if it was (timeout, cancel, lost ownership)
  std::string result_message;  // from fail_step
};

Result<ScriptResult> RunScript(const ScriptOptions& options, const ScriptCallbacks& callbacks);

}  // namespace cuttle::tasks
