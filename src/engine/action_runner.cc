#include "engine/action_runner.h"

#include <fmt/format.h>

#include <filesystem>
#include <mutex>

#include "core/strings.h"
#include "engine/package_deploy.h"

namespace cuttle::engine {

namespace {

// `text` as one single-quoted shell word.
std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// `text` as a Python string literal (JSON's escapes are Python's for these characters).
std::string PythonQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Result<StepOutcome> RunScriptStep(const ActionRequest& request, const StepCallbacks& callbacks,
                                  const std::string& work_dir, std::chrono::milliseconds timeout) {
  StepScript script;
  script.body = request.script_body;
  script.syntax = request.syntax;
  script.variables = request.variables;
  script.substitute = request.substitute;
  script.work_dir = work_dir;
  script.env = request.env;
  script.timeout = timeout;
  return RunStep(script, callbacks);
}

Result<StepOutcome> RunPackageStep(const ActionRequest& request, const StepCallbacks& callbacks,
                                   const std::string& work_dir, const std::string& home,
                                   std::chrono::milliseconds timeout) {
  // What the conventions' scripts set is seen by the later conventions (and is the step's output).
  VariableDictionary variables = request.variables;
  StepOutcome total;
  std::mutex mu;  // the callbacks all run on this thread; the lock documents the shared state
  auto add_output = [&](const std::string& name, const std::string& value, bool sensitive) {
    for (auto& o : total.output_variables) {
      if (core::EqualsIgnoreCase(o.name, name)) {
        o.value = value;
        o.sensitive = sensitive;
        return;
      }
    }
    total.output_variables.push_back({name, value, sensitive});
  };
  PackageDeployOptions o;
  o.variable = [&](std::string_view name) -> std::optional<std::string> {
    std::lock_guard lock(mu);
    auto raw = variables.Get(name);
    if (!raw) return std::nullopt;
    return request.substitute ? request.substitute(*raw) : *raw;
  };
  o.substitute = [&](std::string_view text) {
    return Substitution{request.substitute ? request.substitute(text) : std::string(text), ""};
  };
  o.run_script = [&](const std::string& path, const std::string& dir) -> Result<ScriptOutcome> {
    StepScript script;
    const bool python = path.ends_with(".py");
    script.syntax = python ? ScriptSyntax::kPython : ScriptSyntax::kBash;
    script.body = python ? fmt::format(
                               "import os\nos.chdir({0})\n__file__ = {1}\nexec(compile("
                               "open({1}).read(), {1}, 'exec'))\n",
                               PythonQuote(dir), PythonQuote(path))
                         : fmt::format("cd {} && source {}\n", ShellQuote(dir), ShellQuote(path));
    {
      std::lock_guard lock(mu);
      script.variables = variables;
    }
    script.work_dir = work_dir;
    script.env = request.env;
    script.timeout = timeout;
    CUTTLE_TRY(auto ran, RunStep(script, callbacks));
    std::lock_guard lock(mu);
    for (const auto& v : ran.output_variables) {
      variables.Set(v.name, v.value, v.sensitive);
      add_output(v.name, v.value, v.sensitive);
    }
    for (auto& a : ran.artifacts) total.artifacts.push_back(std::move(a));
    if (!ran.killed_reason.empty()) total.killed_reason = ran.killed_reason;
    if (!ran.result_message.empty()) total.result_message = ran.result_message;
    total.wrote_to_stderr = total.wrote_to_stderr || ran.wrote_to_stderr;
    return ScriptOutcome{ran.killed_reason.empty() ? ran.exit_code : 1, ran.wrote_to_stderr};
  };
  o.set_variable = [&](std::string_view name, std::string_view value, bool output) {
    std::lock_guard lock(mu);
    variables.Set(name, std::string(value));
    if (output) add_output(std::string(name), std::string(value), false);
  };
  o.log = [&](DeployLogLevel level, std::string_view message) {
    if (!callbacks.on_line) return;
    LogCategory c = level == DeployLogLevel::kVerbose   ? LogCategory::kVerbose
                    : level == DeployLogLevel::kWarning ? LogCategory::kWarning
                    : level == DeployLogLevel::kError   ? LogCategory::kError
                                                        : LogCategory::kInfo;
    callbacks.on_line(c, message);
  };
  o.journal_path = home + "/DeploymentJournal.json";
  o.home_directory = home;
  std::error_code ec;
  std::filesystem::create_directories(home, ec);
  PackageDeployRequest r;
  r.package_path = request.package_path;
  r.package_id = request.package_id;
  r.package_version = request.package_version;
  auto deployed = engine::DeployPackage(r, o);
  if (!deployed) {
    if (deployed.error().code() == ErrorCode::kIo) return Fail(deployed.error());
    total.exit_code = 1;
    if (total.killed_reason.empty()) total.result_message = deployed.error().message();
  }
  return total;
}

}  // namespace

Result<StepOutcome> RunAction(const ActionRequest& request, const StepCallbacks& callbacks,
                              const std::string& work_dir, const std::string& home,
                              std::chrono::milliseconds timeout) {
  return request.kind == ActionRequest::Kind::kPackage
             ? RunPackageStep(request, callbacks, work_dir, home, timeout)
             : RunScriptStep(request, callbacks, work_dir, timeout);
}

}  // namespace cuttle::engine
