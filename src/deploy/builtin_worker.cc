#include <fmt/format.h>

#include <filesystem>
#include <mutex>

#include "core/strings.h"
#include "deploy/target.h"
#include "engine/package_deploy.h"

namespace cuttle::deploy {

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

struct RemoveDir {
  tasks::TaskExecution& execution;
  std::string dir;
  ~RemoveDir() { execution.RemoveWorkDir(dir); }
};

}  // namespace

BuiltInWorker::BuiltInWorker(tasks::TaskExecution& execution, feed::PackageStore* packages,
                             std::string home, std::chrono::milliseconds script_timeout)
    : execution_(execution),
      packages_(packages),
      home_(std::move(home)),
      script_timeout_(script_timeout) {}

Result<std::string> BuiltInWorker::Fetch(const PackageRef& package) {
  if (packages_ == nullptr) {
    return Fail(Error::InvalidArgument("This node has no built-in package feed."));
  }
  CUTTLE_TRY(auto found, packages_->Find(package.space_id, package.package_id, package.version));
  if (!found) {
    return Fail(
        Error::NotFound(fmt::format("The package {} version {} is not in the built-in feed.",
                                    package.package_id, package.version)));
  }
  return packages_->PathOf(*found);
}

Result<engine::StepOutcome> BuiltInWorker::Run(const StepRequest& request,
                                               const engine::StepCallbacks& callbacks) {
  CUTTLE_TRY(auto work_dir, execution_.CreateWorkDir());
  RemoveDir cleanup{execution_, work_dir};
  Result<engine::StepOutcome> outcome = request.kind == StepRequest::Kind::kPackage
                                            ? DeployPackage(request, callbacks, work_dir)
                                            : RunScript(request, callbacks, work_dir);
  if (!outcome) return outcome;
  if (!outcome->artifacts.empty()) {
    if (outcome->killed_reason.empty()) {
      std::string why = execution_.CollectArtifacts(work_dir, outcome->artifacts);
      if (!why.empty()) outcome->killed_reason = why;
    } else if (callbacks.on_line) {
      callbacks.on_line(engine::LogCategory::kWarning,
                        fmt::format("{} artifact(s) were not collected: the step was stopped",
                                    outcome->artifacts.size()));
    }
  }
  return outcome;
}

Result<engine::StepOutcome> BuiltInWorker::RunScript(const StepRequest& request,
                                                     const engine::StepCallbacks& callbacks,
                                                     const std::string& work_dir) {
  engine::StepScript script;
  script.body = request.script_body;
  script.syntax = request.syntax;
  script.variables = request.variables;
  script.substitute = request.substitute;
  script.work_dir = work_dir;
  script.env = request.env;
  script.timeout = script_timeout_;
  return engine::RunStep(script, callbacks);
}

Result<engine::StepOutcome> BuiltInWorker::DeployPackage(const StepRequest& request,
                                                         const engine::StepCallbacks& callbacks,
                                                         const std::string& work_dir) {
  // What the conventions' scripts set is seen by the later conventions (and is the step's output).
  engine::VariableDictionary variables = request.variables;
  engine::StepOutcome total;
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
  engine::PackageDeployOptions o;
  o.variable = [&](std::string_view name) -> std::optional<std::string> {
    std::lock_guard lock(mu);
    auto raw = variables.Get(name);
    if (!raw) return std::nullopt;
    return request.substitute ? request.substitute(*raw) : *raw;
  };
  o.substitute = [&](std::string_view text) {
    return engine::Substitution{request.substitute ? request.substitute(text) : std::string(text),
                                ""};
  };
  o.run_script = [&](const std::string& path,
                     const std::string& dir) -> Result<engine::ScriptOutcome> {
    engine::StepScript script;
    const bool python = path.ends_with(".py");
    script.syntax = python ? engine::ScriptSyntax::kPython : engine::ScriptSyntax::kBash;
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
    script.timeout = script_timeout_;
    CUTTLE_TRY(auto ran, engine::RunStep(script, callbacks));
    std::lock_guard lock(mu);
    for (const auto& v : ran.output_variables) {
      variables.Set(v.name, v.value, v.sensitive);
      add_output(v.name, v.value, v.sensitive);
    }
    for (auto& a : ran.artifacts) total.artifacts.push_back(std::move(a));
    if (!ran.killed_reason.empty()) total.killed_reason = ran.killed_reason;
    if (!ran.result_message.empty()) total.result_message = ran.result_message;
    total.wrote_to_stderr = total.wrote_to_stderr || ran.wrote_to_stderr;
    return engine::ScriptOutcome{ran.killed_reason.empty() ? ran.exit_code : 1,
                                 ran.wrote_to_stderr};
  };
  o.set_variable = [&](std::string_view name, std::string_view value, bool output) {
    std::lock_guard lock(mu);
    variables.Set(name, std::string(value));
    if (output) add_output(std::string(name), std::string(value), false);
  };
  o.log = [&](engine::DeployLogLevel level, std::string_view message) {
    if (!callbacks.on_line) return;
    engine::LogCategory c =
        level == engine::DeployLogLevel::kVerbose   ? engine::LogCategory::kVerbose
        : level == engine::DeployLogLevel::kWarning ? engine::LogCategory::kWarning
        : level == engine::DeployLogLevel::kError   ? engine::LogCategory::kError
                                                    : engine::LogCategory::kInfo;
    callbacks.on_line(c, message);
  };
  o.journal_path = home_ + "/DeploymentJournal.json";
  o.home_directory = home_;
  std::error_code ec;
  std::filesystem::create_directories(home_, ec);
  engine::PackageDeployRequest r;
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

}  // namespace cuttle::deploy
