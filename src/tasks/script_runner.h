// ScriptRunner: runs a bash script the way Octopus runs a script step — with the Octopus bash
// helpers (reference-octopus-scripts.md) defined first, in its own working directory and process
// group, its stdout and stderr streamed line by line, and service messages on stdout honoured.
//
// One Run() per call; the callbacks are invoked on the calling thread. Thread-compatible.
#pragma once

#include <chrono>
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
  std::string work_dir;  // created if missing
  std::chrono::milliseconds timeout{3'600'000};
  std::map<std::string, std::string> env;  // extra environment variables
};

struct ScriptCallbacks {
  // A line of output at its category (stdout at the current level; stderr as Error).
  std::function<void(LogCategory, std::string_view)> on_line;
  // A createArtifact message: the file's path (absolute, or relative to the working directory)
  // and the artifact's name.
  std::function<void(const std::string& path, const std::string& name)> on_artifact;
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
