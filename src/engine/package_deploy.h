// Deploys a package on a target as Calamari's `deploy-package` does for the
// Octopus.TentaclePackage step (reference-octopus-deployment-model.md §4; docs/package-deploy.md).
// The conventions run in Octopus's order, in the package's working directory:
//   1. already-installed check (Octopus.Action.Package.SkipIfAlreadyInstalled, from the journal)
//   2. extraction to <application root>/[<tenant>/]<environment>/<package id>/<version>[_N]
//   3. PreDeploy: the configured script (Octopus.Action.CustomScripts.PreDeploy.<ext>), then the
//      packaged PreDeploy.<ext>
//   4. substitute variables in files (feature Octopus.Features.SubstituteInFiles)
//   5. structured configuration variables, JSON and YAML
//   (Octopus.Features.JsonConfigurationVariables)
//   6. copy to the custom installation directory, purged first if asked; it becomes the
//      working directory
//   7. Deploy: packaged, then configured;  8. PostDeploy: packaged, then configured
// After each one, Octopus.Action.SkipRemainingConventions=True ends the run (successfully). If a
// convention fails, DeployFailed.<ext> in the working directory runs, and the first error is
// returned. Every attempt that got as far as extracting is written to the journal; after a
// successful one the retention policy, if given, deletes older extracted folders.
//
// Running scripts and evaluating Octostache are the caller's (the step runner's): they come in
// as callbacks. DeployPackage blocks until the deployment ends; it is safe to run several at once
// (extraction folders are claimed with mkdir(2), the journal under a file lock) as long as each
// call has its own callbacks.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "engine/deploy_journal.h"

namespace cuttle::engine {

enum class DeployLogLevel { kVerbose, kInfo, kWarning, kError };

// The script languages Calamari knows (named apart from step_runner.h's ScriptSyntax, so both
// headers can be included together), in the order it runs configured scripts of one stage.
enum class PackageScriptSyntax { kPowerShell, kCSharp, kBash, kPython };
// "ps1", "csx", "sh", "py".
std::string_view ScriptFileExtension(PackageScriptSyntax syntax);

struct ScriptOutcome {
  int exit_code = 0;
  bool wrote_error_output = false;  // anything on stderr (Octopus.Action.FailScriptOnErrorOutput)
};

// What evaluating a template gave, Octostache's non-halting mode: `text` is usable even when
// `error` says a token could not be evaluated (it is then left in the text as written).
struct Substitution {
  std::string text;
  std::string error;
};

struct PackageDeployOptions {
  // The value of a variable, Octostache-evaluated; nullopt when unset. Case-insensitive, and it
  // must see what scripts set during this deployment (##octopus[setVariable]), which is how a
  // script's Octopus.Action.SkipRemainingConventions takes effect. Required.
  std::function<std::optional<std::string>(std::string_view name)> variable;
  // Evaluates a file's text as an Octostache template (non-halting). Required.
  std::function<Substitution(std::string_view text)> substitute;
  // Runs the script file at `script_path` (syntax by its extension; the file need not be
  // executable) with `work_dir` as its working directory, and with the deployment's variables.
  // An error is a failure to run at all; a script that ran reports its exit code. Required.
  std::function<Result<ScriptOutcome>(const std::string& script_path, const std::string& work_dir)>
      run_script;
  // Told of every variable the deployment sets for the rest of this run (`output` false, e.g.
  // OctopusOriginalPackageDirectoryPath) and of every output variable for the server (`output`
  // true, e.g. Octopus.Action.Package.InstallationDirectoryPath). Optional: DeployPackage sees
  // its own values either way.
  std::function<void(std::string_view name, std::string_view value, bool output)> set_variable;
  std::function<void(DeployLogLevel level, std::string_view message)> log;  // optional
  // The syntaxes this host can run, most preferred first (Calamari's Unix order is sh, py, csx,
  // ps1): one packaged script per stage runs, the first of these that the package has.
  std::vector<PackageScriptSyntax> script_syntaxes = {PackageScriptSyntax::kBash,
                                                      PackageScriptSyntax::kPython};
  // The journal file, e.g. "<agent home>/DeploymentJournal.json"; empty: no journal (and so no
  // already-installed check, previous-installation variables or retention).
  std::string journal_path;
  // $HOME: the application root is <home>/Applications unless the variable
  // Octopus.Tentacle.Agent.ApplicationDirectoryPath names one.
  std::string home_directory;
  const core::Clock* clock =
      nullptr;  // the journal's InstalledOn and retention; null: the system's
};

struct PackageDeployRequest {
  std::string package_path;     // on the target; the format comes from its extension
  std::string package_id;       // empty: the variable Octopus.Action.Package.PackageId
  std::string package_version;  // empty: Octopus.Action.Package.PackageVersion
  // The lifecycle phase's TentacleRetentionPolicy, applied to OctopusRetentionPolicySet after a
  // successful deployment; nullopt keeps everything.
  std::optional<TentacleRetention> retention;
};

struct PackageDeployResult {
  bool already_installed = false;      // skipped by SkipIfAlreadyInstalled
  std::string extracted_to;            // empty when skipped
  std::string installation_directory;  // where the package ended up (the custom directory if any)
  int extracted_file_count = 0;
  std::optional<int> copied_file_count;  // set when copied to a custom directory
  // The output variables, in the order they were set (also given to set_variable).
  std::vector<std::pair<std::string, std::string>> output_variables;
};

// Errors: kInvalidArgument for what the deployment's inputs caused (a refused or unreadable
// package, a script that failed, a bad custom directory, a file that would not parse); kIo for
// the file system. The message is the one to show in the task log.
Result<PackageDeployResult> DeployPackage(const PackageDeployRequest& request,
                                          const PackageDeployOptions& options);

}  // namespace cuttle::engine
