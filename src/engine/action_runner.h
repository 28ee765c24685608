// RunAction: runs one resolved action on this machine — a script step, or a package step with its
// conventions (package_deploy.h) whose scripts run through the step runner (step_runner.h). One
// implementation for the server's built-in worker (deploy::BuiltInWorker) and the agent
// (src/agent/), so a step behaves the same wherever it runs. It knows nothing of tasks or the
// database: collecting artifacts and making the working folder are the caller's.
//
// Thread-compatible: concurrent RunActions need distinct working folders (package deployments
// under one home serialise on its journal's lock).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "engine/step_runner.h"
#include "engine/variables.h"

namespace cuttle::engine {

// One action to run, already resolved (deploy::StepRequest is this type).
struct ActionRequest {
  enum class Kind { kScript, kPackage };
  Kind kind = Kind::kScript;
  // kScript: the body (substituted by `substitute` when the runner writes it) and its syntax.
  std::string script_body;
  ScriptSyntax syntax = ScriptSyntax::kBash;
  // Every variable the action sees, Octostache-evaluated (sensitive ones flagged: masked).
  VariableDictionary variables;
  // Evaluates a template with the action's variables (Octostache, non-halting for files).
  std::function<std::string(std::string_view)> substitute;
  // Environment variables for the script (OCTOPUS_TASK_ID...).
  std::map<std::string, std::string> env;
  // kPackage: the package file on this machine, and what it is.
  std::string package_path;
  std::string package_id;
  std::string package_version;
};

// Runs the action in `work_dir` (an existing folder of its own). Packages are installed under
// `home` (Applications/ and DeploymentJournal.json, kept between deployments; created if
// missing). Every script gets `timeout`. Lines reach `callbacks.on_line` masked; a non-empty
// `callbacks.should_stop` kills the running script. A failed package convention is exit code 1
// with its message in result_message. Errors only when the work could not be started at all (or
// the package could not be read or written: kIo).
Result<StepOutcome> RunAction(const ActionRequest& request, const StepCallbacks& callbacks,
                              const std::string& work_dir, const std::string& home,
                              std::chrono::milliseconds timeout);

}  // namespace cuttle::engine
