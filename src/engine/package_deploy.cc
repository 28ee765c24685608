#include "engine/package_deploy.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "core/ids.h"
#include "core/strings.h"
#include "engine/file_glob.h"
#include "engine/package_extract.h"
#include "engine/structured_config.h"
#include "engine/text_file.h"
#include "engine/variables.h"
#include "storage/storage.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;

// Variables Calamari reads and writes (reference-octopus-deployment-model.md §3.8, §4).
namespace var {
constexpr std::string_view kPackageId = "Octopus.Action.Package.PackageId";
constexpr std::string_view kPackageVersion = "Octopus.Action.Package.PackageVersion";
constexpr std::string_view kApplicationRoot = "Octopus.Tentacle.Agent.ApplicationDirectoryPath";
constexpr std::string_view kTenantName = "Octopus.Deployment.Tenant.Name";
constexpr std::string_view kTenantId = "Octopus.Deployment.Tenant.Id";
constexpr std::string_view kEnvironmentName = "Octopus.Environment.Name";
constexpr std::string_view kEnvironmentId = "Octopus.Environment.Id";
constexpr std::string_view kProjectId = "Octopus.Project.Id";
constexpr std::string_view kRetentionPolicySet = "OctopusRetentionPolicySet";
constexpr std::string_view kOriginalPackageDirectory = "OctopusOriginalPackageDirectoryPath";
constexpr std::string_view kSkipRemaining = "Octopus.Action.SkipRemainingConventions";
constexpr std::string_view kSkipIfInstalled = "Octopus.Action.Package.SkipIfAlreadyInstalled";
constexpr std::string_view kRunPackageScripts = "Octopus.Action.Package.RunScripts";
constexpr std::string_view kDeleteScripts = "OctopusDeleteScriptsOnCleanup";
constexpr std::string_view kFailOnErrorOutput = "Octopus.Action.FailScriptOnErrorOutput";
constexpr std::string_view kEnabledFeatures = "Octopus.Action.EnabledFeatures";
constexpr std::string_view kCustomScriptsFeature = "Octopus.Features.CustomScripts";
constexpr std::string_view kSubstituteFeature = "Octopus.Features.SubstituteInFiles";
constexpr std::string_view kStructuredFeature = "Octopus.Features.JsonConfigurationVariables";
constexpr std::string_view kSubstituteTargets = "Octopus.Action.SubstituteInFiles.TargetFiles";
constexpr std::string_view kNoMatchWarning =
    "Octopus.Action.SubstituteInFiles.EnableNoMatchWarning";
constexpr std::string_view kOutputEncoding = "Octopus.Action.SubstituteInFiles.OutputEncoding";
constexpr std::string_view kFailOnSubstitution = "OctopusShouldFailDeploymentOnSubstitutionFails";
constexpr std::string_view kStructuredTargets =
    "Octopus.Action.Package.JsonConfigurationVariablesTargets";
constexpr std::string_view kStructuredJsonOnly =
    "Octopus.Action.StructuredConfigurationFallbackFlag";
constexpr std::string_view kAdditionalPaths = "Octopus.Action.AdditionalPaths";
constexpr std::string_view kCustomDirectory = "Octopus.Action.Package.CustomInstallationDirectory";
constexpr std::string_view kPurgeCustom =
    "Octopus.Action.Package.CustomInstallationDirectoryShouldBePurgedBeforeDeployment";
constexpr std::string_view kPurgeExclusions =
    "Octopus.Action.Package.CustomInstallationDirectoryPurgeExclusions";
constexpr std::string_view kSkipFreeSpaceCheck = "OctopusSkipFreeDiskSpaceCheck";
constexpr std::string_view kFreeSpaceMegabytes = "OctopusFreeDiskSpaceOverrideInMegaBytes";
constexpr std::string_view kLastError = "OctopusLastError";
constexpr std::string_view kLastErrorMessage = "OctopusLastErrorMessage";
// Outputs.
constexpr std::string_view kInstallationDirectory =
    "Octopus.Action.Package.InstallationDirectoryPath";
constexpr std::string_view kLegacyInstallationDirectory = "Package.InstallationDirectoryPath";
constexpr std::string_view kExtractedFileCount = "Package.ExtractedFileCount";
constexpr std::string_view kCopiedFileCount = "Package.CopiedFileCount";
}  // namespace var

constexpr uint64_t kDefaultFreeSpaceBytes = 500ull * 1024 * 1024;

constexpr PackageScriptSyntax kAllSyntaxes[] = {
    PackageScriptSyntax::kPowerShell, PackageScriptSyntax::kCSharp, PackageScriptSyntax::kBash,
    PackageScriptSyntax::kPython};

std::string_view SyntaxName(PackageScriptSyntax syntax) {
  switch (syntax) {
    case PackageScriptSyntax::kPowerShell:
      return "PowerShell";
    case PackageScriptSyntax::kCSharp:
      return "CSharp";
    case PackageScriptSyntax::kBash:
      return "Bash";
    case PackageScriptSyntax::kPython:
      return "Python";
  }
  return "";
}

bool IsBlank(const std::optional<std::string>& v) { return !v || core::Trim(*v).empty(); }

// Calamari's FileNameEscaper: the characters Windows forbids (and '%', '@') as %XX.
std::string EscapeFileName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::string_view("%<>:\"/\\|?@").find(c) != std::string_view::npos) {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

// A tenant or environment name as one folder: the characters no file name may hold dropped.
std::string FolderName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c != '/' && c != '\0') out += c;
  }
  return out;
}

Result<void> CheckFolderName(std::string_view what, const std::string& name) {
  if (name == "." || name == "..") {
    return Fail(Error::InvalidArgument(
        fmt::format("The {} '{}' cannot name a folder of the application directory.", what, name)));
  }
  return {};
}

Error IoError(std::string_view what, const std::string& path, const std::error_code& ec) {
  return Error::Io(fmt::format("{} '{}': {}", what, path, ec.message()));
}

class Deployment {
 public:
  Deployment(const PackageDeployRequest& request, const PackageDeployOptions& options)
      : request_(request),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : core::SystemClock::Instance()) {}

  Result<PackageDeployResult> Run() {
    CUTTLE_TRY_VOID(Identify());
    ContributePreviousInstallation();
    using Convention = Result<void> (Deployment::*)();
    static constexpr Convention kConventions[] = {
        &Deployment::AlreadyInstalled, &Deployment::Extract,
        &Deployment::PreDeployScripts, &Deployment::SubstituteInFiles,
        &Deployment::StructuredConfig, &Deployment::CustomInstallationDirectory,
        &Deployment::DeployScripts,    &Deployment::PostDeployScripts,
    };
    for (Convention convention : kConventions) {
      if (auto done = (this->*convention)(); !done) return Failed(done.error());
      if (Flag(var::kSkipRemaining, false)) {
        Log(DeployLogLevel::kVerbose,
            "Octopus.Action.SkipRemainingConventions is set: the remaining conventions are "
            "skipped.");
        break;
      }
    }
    CleanUpRollbackScripts();
    CUTTLE_TRY_VOID(WriteJournal(true));
    ApplyRetentionPolicy();
    if (!result_.already_installed) result_.installation_directory = current_dir_;
    return std::move(result_);
  }

 private:
  // ---- variables and log ----

  std::optional<std::string> Var(std::string_view name) const {
    if (auto it = own_.find(name); it != own_.end()) return it->second;
    return options_.variable(name);
  }

  // Octopus's GetFlag: "true"/"false" in any case; anything else is the default.
  bool Flag(std::string_view name, bool fallback) const {
    const auto value = Var(name);
    if (!value) return fallback;
    const std::string v = core::ToLower(core::Trim(*value));
    if (v == "true") return true;
    if (v == "false") return false;
    return fallback;
  }

  bool FeatureEnabled(std::string_view feature) const {
    for (const auto& f : core::Split(Var(var::kEnabledFeatures).value_or(""), ',')) {
      if (core::Trim(f) == feature) return true;
    }
    return false;
  }

  void Set(std::string_view name, std::string value) {
    if (options_.set_variable) options_.set_variable(name, value, false);
    own_[std::string(name)] = std::move(value);
  }

  // An output variable for the server; `local` also sets it for the rest of this run.
  void Output(std::string_view name, const std::string& value, bool local = true) {
    result_.output_variables.emplace_back(name, value);
    if (options_.set_variable) options_.set_variable(name, value, true);
    if (local) own_[std::string(name)] = value;
  }

  void Log(DeployLogLevel level, std::string_view message) const {
    if (options_.log) options_.log(level, message);
  }

  // ---- 1. already installed ----

  Result<void> Identify() {
    package_id_ =
        request_.package_id.empty() ? Var(var::kPackageId).value_or("") : request_.package_id;
    version_ = request_.package_version.empty() ? Var(var::kPackageVersion).value_or("")
                                                : request_.package_version;
    if (core::Trim(package_id_).empty() || core::Trim(version_).empty()) {
      return Fail(Error::InvalidArgument(
          "The package id and version are not known (Octopus.Action.Package.PackageId and "
          "Octopus.Action.Package.PackageVersion are unset)."));
    }
    policy_set_ = Var(var::kRetentionPolicySet).value_or("");
    if (!options_.journal_path.empty()) journal_.emplace(options_.journal_path);
    return {};
  }

  // Octopus.Tentacle.PreviousInstallation.* and PreviousSuccessfulInstallation.*, from the journal.
  void ContributePreviousInstallation() {
    if (!journal_ || core::Trim(policy_set_).empty()) return;
    for (bool successful : {false, true}) {
      auto previous =
          journal_->LatestInstallation(policy_set_, std::nullopt, std::nullopt, successful);
      if (!previous) {
        Log(DeployLogLevel::kWarning, previous.error().message());
        return;
      }
      const std::string prefix = successful ? "Octopus.Tentacle.PreviousSuccessfulInstallation."
                                            : "Octopus.Tentacle.PreviousInstallation.";
      const JournalEntry* e = previous->has_value() ? &**previous : nullptr;
      const DeployedPackage* p = e != nullptr && !e->packages.empty() ? &e->packages[0] : nullptr;
      Set(prefix + "OriginalInstalledPath", e != nullptr ? e->extracted_to : "");
      Set(prefix + "CustomInstallationDirectory",
          e != nullptr ? e->custom_installation_directory : "");
      Set(prefix + "PackageFilePath", p != nullptr ? p->deployed_from : "");
      Set(prefix + "PackageVersion", p != nullptr ? p->package_version : "");
    }
  }

  Result<void> AlreadyInstalled() {
    if (!Flag(var::kSkipIfInstalled, false)) return {};
    if (!journal_) {
      Log(DeployLogLevel::kVerbose, "No deployment journal: the package is installed again.");
      return {};
    }
    CUTTLE_TRY(auto previous, journal_->LatestInstallation(policy_set_, package_id_, version_,
                                                           /*successful_only=*/false));
    if (!previous) return {};
    if (!previous->was_successful) {
      Log(DeployLogLevel::kInfo,
          "The previous attempt to deploy this package was not successful; re-deploying.");
      return {};
    }
    Log(DeployLogLevel::kInfo,
        "The package has already been installed on this machine, so installation will be "
        "skipped.");
    Output(var::kInstallationDirectory, previous->extracted_to, false);
    Output(var::kLegacyInstallationDirectory, previous->extracted_to, false);
    Set(var::kSkipRemaining, "true");
    result_.already_installed = true;
    result_.installation_directory = previous->extracted_to;
    return {};
  }

  // ---- 2. extraction ----

  Result<std::string> EnvironmentDirectory() const {
    std::string root;
    if (auto configured = Var(var::kApplicationRoot)) {
      root = *configured;
    } else if (!options_.home_directory.empty()) {
      root = (fs::path(options_.home_directory) / "Applications").string();
    } else {
      return Fail(Error::InvalidArgument(fmt::format(
          "Unable to determine the application root directory. Please provide the {} variable",
          var::kApplicationRoot)));
    }
    fs::path dir(root);
    for (auto [what, name] : {std::pair{"tenant name", var::kTenantName},
                              std::pair{"environment name", var::kEnvironmentName}}) {
      const auto value = Var(name);
      if (IsBlank(value)) continue;
      const std::string folder = FolderName(*value);
      CUTTLE_TRY_VOID(CheckFolderName(what, folder));
      if (!folder.empty()) dir /= folder;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Fail(IoError("cannot create", dir.string(), ec));
    return dir.string();
  }

  Result<void> CheckFreeSpace(const std::string& dir) const {
    if (Flag(var::kSkipFreeSpaceCheck, false)) {
      Log(DeployLogLevel::kVerbose,
          "OctopusSkipFreeDiskSpaceCheck is enabled: the free space check is skipped.");
      return {};
    }
    uint64_t required = kDefaultFreeSpaceBytes;
    if (auto mb = core::ParseInt(Var(var::kFreeSpaceMegabytes).value_or("")); mb && *mb >= 0) {
      required = static_cast<uint64_t>(*mb) * 1024 * 1024;
    }
    struct statvfs fs_stats {};
    if (::statvfs(dir.c_str(), &fs_stats) != 0) return {};  // unknown: assume there is enough
    const uint64_t free = static_cast<uint64_t>(fs_stats.f_bavail) * fs_stats.f_frsize;
    if (free < required) {
      return Fail(Error::InvalidArgument(fmt::format(
          "The drive containing the directory '{}' does not have enough free disk space available "
          "for this operation to proceed. The disk only has {} MB available; please free up at "
          "least {} MB.",
          dir, free / (1024 * 1024), required / (1024 * 1024))));
    }
    return {};
  }

  // The first of <base>, <base>_1, <base>_2... that does not exist, claimed by creating it.
  static Result<std::string> ClaimFolder(const std::string& base) {
    for (int i = 0;; ++i) {
      const std::string candidate = i == 0 ? base : base + "_" + std::to_string(i);
      if (::mkdir(candidate.c_str(), 0755) == 0) return candidate;
      if (errno != EEXIST) {
        return Fail(
            Error::Io(fmt::format("cannot create '{}': {}", candidate, std::strerror(errno))));
      }
    }
  }

  Result<void> Extract() {
    const auto format = PackageFormatOf(fs::path(request_.package_path).filename().string());
    if (!format) {
      return Fail(Error::InvalidArgument(fmt::format(
          "'{}' is not a package Cuttle can extract (zip, nupkg, tar, tar.gz, tgz, tar.bz2).",
          request_.package_path)));
    }
    // A refused package leaves no folder behind.
    CUTTLE_TRY_VOID(CheckPackage(request_.package_path, *format));
    const std::string id = EscapeFileName(package_id_);
    const std::string version = EscapeFileName(version_);
    CUTTLE_TRY_VOID(CheckFolderName("package id", id));
    CUTTLE_TRY_VOID(CheckFolderName("package version", version));
    CUTTLE_TRY(std::string environment_dir, EnvironmentDirectory());
    CUTTLE_TRY_VOID(CheckFreeSpace(environment_dir));
    const fs::path package_dir = fs::path(environment_dir) / id;
    std::error_code ec;
    fs::create_directories(package_dir, ec);
    if (ec) return Fail(IoError("cannot create", package_dir.string(), ec));
    CUTTLE_TRY(std::string target, ClaimFolder((package_dir / version).string()));
    Log(DeployLogLevel::kVerbose, "Extracting package to: " + target);
    auto extracted = ExtractPackage(request_.package_path, *format, target);
    if (!extracted) {
      fs::remove_all(target, ec);  // a half-extracted folder no journal entry would clean
      return Fail(extracted.error());
    }
    Log(DeployLogLevel::kVerbose, fmt::format("Extracted {} files", *extracted));
    result_.extracted_to = target;
    result_.extracted_file_count = *extracted;
    current_dir_ = target;
    Set(var::kOriginalPackageDirectory, target);
    Output(var::kInstallationDirectory, target);
    Output(var::kLegacyInstallationDirectory, target);
    Output(var::kExtractedFileCount, std::to_string(*extracted));
    return {};
  }

  // ---- scripts ----

  Result<void> RunScript(const std::string& path, std::string_view failure_prefix) {
    Log(DeployLogLevel::kVerbose, fmt::format("Executing '{}'", path));
    auto outcome = options_.run_script(path, current_dir_);
    if (!outcome) return Fail(outcome.error().Wrap(fmt::format("running '{}'", path)));
    if (outcome->exit_code != 0) {
      return Fail(Error::InvalidArgument(
          fmt::format("{} returned non-zero exit code: {}.{}", failure_prefix, outcome->exit_code,
                      failure_prefix.starts_with("Script '") ? " Deployment terminated." : "")));
    }
    if (outcome->wrote_error_output && Flag(var::kFailOnErrorOutput, false)) {
      return Fail(Error::InvalidArgument(
          fmt::format("{} returned zero exit code but had error output.", failure_prefix)));
    }
    return {};
  }

  // Packaged scripts of `stage` at the top of the working directory, the host's preferred first.
  std::vector<std::string> FindScripts(std::string_view stage) const {
    std::vector<std::pair<size_t, std::string>> found;
    std::error_code ec;
    for (fs::directory_iterator it(current_dir_, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const fs::path& p = it->path();
      if (!core::EqualsIgnoreCase(p.stem().string(), stage)) continue;
      const std::string ext = p.extension().string();
      for (size_t rank = 0; rank < options_.script_syntaxes.size(); ++rank) {
        // ".sh" compared without building it: GCC 12 warns (-Wrestrict, a false positive) on
        // "." + std::string.
        const std::string_view want = ScriptFileExtension(options_.script_syntaxes[rank]);
        if (ext.size() == want.size() + 1 && ext[0] == '.' &&
            core::EqualsIgnoreCase(std::string_view(ext).substr(1), want)) {
          found.emplace_back(rank, p.string());
        }
      }
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> out;
    for (auto& [_, path] : found) out.push_back(std::move(path));
    return out;
  }

  Result<void> RunPackagedScript(std::string_view stage) {
    const auto scripts = FindScripts(stage);
    if (scripts.empty()) return {};
    if (scripts.size() > 1) {
      Log(DeployLogLevel::kVerbose,
          fmt::format("Found {} {} scripts. Selected {} based on the host's preferred order.",
                      scripts.size(), stage, scripts.front()));
    }
    return RunScript(scripts.front(), fmt::format("Script '{}'", scripts.front()));
  }

  void DeleteScripts(std::string_view stage) {
    if (!Flag(var::kDeleteScripts, true)) return;
    for (const auto& script : FindScripts(stage)) {
      std::error_code ec;
      fs::remove(script, ec);
    }
  }

  Result<void> PackagedScripts(std::string_view stage) {
    if (!Flag(var::kRunPackageScripts, true)) return {};
    CUTTLE_TRY_VOID(RunPackagedScript(stage));
    DeleteScripts(stage);
    return {};
  }

  Result<void> ConfiguredScripts(std::string_view stage) {
    if (!FeatureEnabled(var::kCustomScriptsFeature)) return {};
    for (PackageScriptSyntax syntax : kAllSyntaxes) {
      const std::string name =
          fmt::format("Octopus.Action.CustomScripts.{}.{}", stage, ScriptFileExtension(syntax));
      const auto body = Var(name);
      if (IsBlank(body)) continue;
      if (std::find(options_.script_syntaxes.begin(), options_.script_syntaxes.end(), syntax) ==
          options_.script_syntaxes.end()) {
        return Fail(Error::InvalidArgument(fmt::format(
            "{} scripts are not supported on this platform ({})", SyntaxName(syntax), stage)));
      }
      const std::string path = (fs::path(current_dir_) / name).string();
      // Bash reads UTF-8 without a byte-order mark; the others are written with one, as Calamari.
      const std::string bytes =
          syntax == PackageScriptSyntax::kBash ? *body : "\xEF\xBB\xBF" + *body;
      if (auto w = storage::WriteFileAtomic(current_dir_, name, bytes); !w) {
        return Fail(w.error().Wrap("writing the " + std::string(stage) + " script"));
      }
      CUTTLE_TRY_VOID(RunScript(path, fmt::format("{} script", stage)));
      // Kept when it failed, to help whoever investigates.
      if (Flag(var::kDeleteScripts, true)) {
        std::error_code ec;
        fs::remove(path, ec);
      }
    }
    return {};
  }

  Result<void> PreDeployScripts() {
    // Configured before packaged for PreDeploy only, as Octopus does.
    CUTTLE_TRY_VOID(ConfiguredScripts("PreDeploy"));
    return PackagedScripts("PreDeploy");
  }
  Result<void> DeployScripts() {
    CUTTLE_TRY_VOID(PackagedScripts("Deploy"));
    return ConfiguredScripts("Deploy");
  }
  Result<void> PostDeployScripts() {
    CUTTLE_TRY_VOID(PackagedScripts("PostDeploy"));
    return ConfiguredScripts("PostDeploy");
  }

  // ---- 4, 5. files ----

  // What `pattern` matches under the working directory and each Octopus.Action.AdditionalPaths.
  std::vector<std::string> MatchFiles(const std::string& pattern) const {
    std::vector<std::string> files = ExpandGlob(current_dir_, pattern);
    for (const auto& extra : core::Split(Var(var::kAdditionalPaths).value_or(""), ',')) {
      const std::string_view path = core::Trim(extra);
      if (path.empty()) continue;
      for (auto& f : ExpandGlob(std::string(path), pattern)) files.push_back(std::move(f));
    }
    return files;
  }

  Result<void> SubstituteInFiles() {
    if (!FeatureEnabled(var::kSubstituteFeature)) return {};
    const bool fail_on_error = Flag(var::kFailOnSubstitution, false);
    const auto requested = Var(var::kOutputEncoding);
    const std::optional<TextEncoding> output =
        requested ? TextEncodingByName(*requested) : std::nullopt;
    if (requested && !output) {
      Log(DeployLogLevel::kVerbose,
          fmt::format("The output encoding '{}' is not known; files keep their own.", *requested));
    }
    for (const auto& pattern : SplitPathList(Var(var::kSubstituteTargets).value_or(""))) {
      const auto files = MatchFiles(pattern);
      if (files.empty() && Flag(var::kNoMatchWarning, true)) {
        Log(DeployLogLevel::kWarning,
            fmt::format("No files were found in {} that match the substitution target pattern "
                        "'{}'",
                        current_dir_, pattern));
      }
      for (const auto& file : files) CUTTLE_TRY_VOID(SubstituteFile(file, output, fail_on_error));
    }
    return {};
  }

  Result<void> SubstituteFile(const std::string& path, std::optional<TextEncoding> output,
                              bool fail_on_error) {
    Log(DeployLogLevel::kVerbose, fmt::format("Performing variable substitution on '{}'", path));
    CUTTLE_TRY(TextFile file, ReadTextFile(path));
    Substitution substituted = options_.substitute(file.text);
    if (!substituted.error.empty()) {
      const std::string message =
          fmt::format("Parsing file '{}' with Octostache returned the following error: `{}`", path,
                      substituted.error);
      if (fail_on_error) return Fail(Error::InvalidArgument(message));
      Log(DeployLogLevel::kVerbose, message);
    }
    const TextEncoding encoding = output.value_or(file.encoding);
    if (substituted.text == file.text && encoding == file.encoding) return {};
    return WriteTextFile(path, substituted.text, encoding);
  }

  Result<void> StructuredConfig() {
    if (!FeatureEnabled(var::kStructuredFeature)) return {};
    const bool json_only = Flag(var::kStructuredJsonOnly, false);
    const VariableLookup lookup = [this](std::string_view name) { return Var(name); };
    for (const auto& pattern : SplitPathList(Var(var::kStructuredTargets).value_or(""))) {
      std::error_code ec;
      if (fs::is_directory(fs::path(current_dir_) / pattern, ec)) {
        Log(DeployLogLevel::kWarning,
            fmt::format("Skipping structured variable replacement on '{}' because it is a "
                        "directory.",
                        pattern));
        continue;
      }
      const auto files = MatchFiles(pattern);
      if (files.empty()) {
        Log(DeployLogLevel::kWarning,
            fmt::format("No files were found that match the replacement target pattern '{}'",
                        pattern));
      }
      for (const auto& file : files) {
        CUTTLE_TRY(StructuredFileResult done,
                   ReplaceStructuredVariablesInFile(file, lookup, json_only));
        for (const auto& w : done.warnings) Log(DeployLogLevel::kWarning, w);
        Log(DeployLogLevel::kInfo,
            fmt::format("Structured variable replacement succeeded on file {} with format {} "
                        "({} replaced)",
                        file, done.format == StructuredFormat::kJson ? "Json" : "Yaml",
                        done.replaced));
      }
    }
    return {};
  }

  // ---- 6. custom installation directory ----

  Result<void> CustomInstallationDirectory() {
    const auto configured = Var(var::kCustomDirectory);
    if (IsBlank(configured)) {
      Log(DeployLogLevel::kVerbose, "The package has been installed to: " + current_dir_);
      // Set, so that everything after can rely on it.
      Set(var::kCustomDirectory, current_dir_);
      return {};
    }
    const fs::path custom = fs::path(std::string(core::Trim(*configured))).lexically_normal();
    if (!custom.is_absolute()) {
      return Fail(Error::InvalidArgument(fmt::format(
          "The custom install directory '{}' is a relative path, please specify the path as an "
          "absolute path.",
          *configured)));
    }
    const std::string dir = custom.has_filename() ? custom.string() : custom.parent_path().string();
    // Calamari would copy into (and purge) "/" too; an agent that can empty a machine is refused.
    if (!fs::path(dir).has_relative_path()) {
      return Fail(Error::InvalidArgument(fmt::format(
          "The custom install directory '{}' is the root of the file system, please specify a "
          "different destination.",
          *configured)));
    }
    const fs::path source = fs::path(current_dir_).lexically_normal();
    const auto rel = fs::path(dir).lexically_relative(source);
    if (!rel.empty() && *rel.begin() != "..") {
      return Fail(Error::InvalidArgument(fmt::format(
          "The custom install directory '{}' is a child directory of the base installation "
          "directory '{}', please specify a different destination.",
          dir, current_dir_)));
    }
    if (Flag(var::kPurgeCustom, false)) {
      Log(DeployLogLevel::kInfo, fmt::format("Purging the directory '{}'", dir));
      CUTTLE_TRY_VOID(Purge(dir));
    }
    Log(DeployLogLevel::kInfo, fmt::format("Copying package contents to '{}'", dir));
    int copied = 0;
    CUTTLE_TRY_VOID(CopyTree(current_dir_, dir, copied));
    Log(DeployLogLevel::kInfo, fmt::format("Copied {} files", copied));
    current_dir_ = dir;
    result_.copied_file_count = copied;
    Output(var::kInstallationDirectory, dir);
    Output(var::kLegacyInstallationDirectory, dir);
    Output(var::kCopiedFileCount, std::to_string(copied));
    return {};
  }

  Result<void> Purge(const std::string& dir) {
    std::vector<std::string> keep;
    const auto exclusions = SplitPathList(Var(var::kPurgeExclusions).value_or(""));
    if (!exclusions.empty()) {
      std::string listed;
      for (const auto& e : exclusions) listed += (listed.empty() ? "" : ", ") + e;
      Log(DeployLogLevel::kInfo,
          fmt::format("Leaving files and directories that match any of: '{}'", listed));
    }
    for (const auto& pattern : exclusions) {
      for (auto& k : ExpandGlob(dir, pattern, GlobMatch::kFilesAndDirectories)) {
        keep.push_back(std::move(k));
      }
    }
    return PurgeFolder(fs::path(dir), keep, false);
  }

  // Deletes what `dir` holds except `keep` (and whatever lies in a kept folder); the folder
  // itself goes too if `self` and it ends up empty. Linked folders are unlinked, not entered.
  static Result<void> PurgeFolder(const fs::path& dir, const std::vector<std::string>& keep,
                                  bool self) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return {};
    auto kept = [&keep](const fs::path& p) {
      const std::string s = p.lexically_normal().string();
      return std::any_of(keep.begin(), keep.end(),
                         [&s](const std::string& k) { return s == k || s.starts_with(k + "/"); });
    };
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(*it);
    }
    if (ec) return Fail(IoError("cannot list", dir.string(), ec));
    for (const auto& entry : entries) {
      if (kept(entry.path())) continue;
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
        CUTTLE_TRY_VOID(PurgeFolder(entry.path(), keep, true));
      } else if (!fs::remove(entry.path(), ec) || ec) {
        return Fail(IoError("cannot delete", entry.path().string(), ec));
      }
    }
    if (self && fs::is_empty(dir, ec) && !ec) {
      fs::remove(dir, ec);
      if (ec) return Fail(IoError("cannot delete", dir.string(), ec));
    }
    return {};
  }

  // Copies the tree under `from` into `to`, replacing files; links are copied as links.
  static Result<void> CopyTree(const fs::path& from, const fs::path& to, int& copied) {
    std::error_code ec;
    fs::create_directories(to, ec);
    if (ec) return Fail(IoError("cannot create", to.string(), ec));
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(*it);
    }
    if (ec) return Fail(IoError("cannot list", from.string(), ec));
    for (const auto& entry : entries) {
      const fs::path target = to / entry.path().filename();
      if (entry.is_symlink(ec)) {
        fs::remove(target, ec);
        fs::copy_symlink(entry.path(), target, ec);
        if (ec) return Fail(IoError("cannot copy", entry.path().string(), ec));
        ++copied;
      } else if (entry.is_directory(ec)) {
        CUTTLE_TRY_VOID(CopyTree(entry.path(), target, copied));
      } else if (entry.is_regular_file(ec)) {
        fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec);
        if (ec) {
          return Fail(Error::Io(fmt::format(
              "cannot copy '{}' to '{}': {}. Ensure that the application that uses this "
              "directory is not running.",
              entry.path().string(), target.string(), ec.message())));
        }
        ++copied;
      }
    }
    return {};
  }

  // ---- failure, journal, retention ----

  void CleanUpRollbackScripts() {
    if (current_dir_.empty() || Flag(var::kSkipRemaining, false)) return;
    DeleteScripts("DeployFailed");
  }

  std::unexpected<Error> Failed(const Error& error) {
    Set(var::kLastError, error.message());
    Set(var::kLastErrorMessage, error.message());
    if (!current_dir_.empty()) {
      Log(DeployLogLevel::kError, "Running rollback conventions...");
      auto rolled_back = RunPackagedScript("DeployFailed");
      if (rolled_back) {
        CleanUpRollbackScripts();
      } else if (rolled_back.error().message() != error.message()) {
        Log(DeployLogLevel::kError, rolled_back.error().message());
      }
    }
    if (auto journaled = WriteJournal(false); !journaled) {
      Log(DeployLogLevel::kError, journaled.error().message());
    }
    return std::unexpected<Error>(error);
  }

  Result<void> WriteJournal(bool successful) {
    if (!journal_ || result_.already_installed || result_.extracted_to.empty()) return {};
    JournalEntry entry;
    entry.id = core::NewUuid();
    entry.environment_id = Var(var::kEnvironmentId).value_or("");
    entry.tenant_id = Var(var::kTenantId).value_or("");
    entry.project_id = Var(var::kProjectId).value_or("");
    entry.installed_on = core::ToUnixMillis(clock_.Now());
    entry.retention_policy_set = policy_set_;
    entry.extracted_to = result_.extracted_to;
    entry.custom_installation_directory = Var(var::kCustomDirectory).value_or("");
    entry.was_successful = successful;
    entry.packages.push_back({package_id_, version_, request_.package_path});
    return journal_->Add(entry);
  }

  // Retention is housekeeping: its failure is a warning, never the deployment's.
  void ApplyRetentionPolicy() {
    if (!journal_ || !request_.retention || result_.already_installed) return;
    if (core::Trim(policy_set_).empty()) {
      Log(DeployLogLevel::kVerbose, "No OctopusRetentionPolicySet: retention is not applied.");
      return;
    }
    auto outcome = ApplyRetention(*journal_, policy_set_, *request_.retention, clock_);
    if (!outcome) {
      Log(DeployLogLevel::kWarning, "Retention was not applied: " + outcome.error().message());
      return;
    }
    for (const auto& m : outcome->messages) Log(DeployLogLevel::kVerbose, m);
  }

  const PackageDeployRequest& request_;
  const PackageDeployOptions& options_;
  const core::Clock& clock_;
  std::map<std::string, std::string, NameLess> own_;  // what this deployment set
  std::optional<DeploymentJournal> journal_;
  std::string package_id_;
  std::string version_;
  std::string policy_set_;
  std::string current_dir_;  // the working directory: extraction, then custom directory
  PackageDeployResult result_;
};

}  // namespace

std::string_view ScriptFileExtension(PackageScriptSyntax syntax) {
  switch (syntax) {
    case PackageScriptSyntax::kPowerShell:
      return "ps1";
    case PackageScriptSyntax::kCSharp:
      return "csx";
    case PackageScriptSyntax::kBash:
      return "sh";
    case PackageScriptSyntax::kPython:
      return "py";
  }
  return "";
}

Result<PackageDeployResult> DeployPackage(const PackageDeployRequest& request,
                                          const PackageDeployOptions& options) {
  if (!options.variable || !options.substitute || !options.run_script) {
    return Fail(
        Error::Internal("DeployPackage needs the variable, substitute and run_script "
                        "callbacks"));
  }
  return Deployment(request, options).Run();
}

}  // namespace cuttle::engine
