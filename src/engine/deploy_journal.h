// The deployment journal of a target (reference-octopus-deployment-model.md §4.11): one entry
// per package-deployment attempt, in a JSON file under the agent's home, and the retention that
// deletes old extracted folders by it. It answers "was this package already installed here"
// (Octopus.Action.Package.SkipIfAlreadyInstalled) and fills
// Octopus.Tentacle.PreviousInstallation.*.
//
// File shape (Octopus's XML journal, as JSON):
//   {"Deployments": [{"Id": "...", "EnvironmentId": "Environments-1", "TenantId": "",
//     "ProjectId": "Projects-1", "InstalledOn": "2026-11-27T02:41:25.123+00:00",
//     "RetentionPolicySet": "...", "ExtractedTo": "/home/agent/Applications/Dev/App/1.0.0",
//     "CustomInstallationDirectory": "...", "WasSuccessful": true,
//     "Packages": [{"PackageId": "App", "PackageVersion": "1.0.0", "DeployedFrom": "..."}]}]}
// Every change is a read-modify-write under an exclusive flock(2) of "<path>.lock" (the file is on
// the target's local disk), and the file is replaced atomically, so readers never see half a
// journal. Thread-safe and safe across processes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace cuttle::engine {

struct DeployedPackage {
  std::string package_id;
  std::string package_version;
  std::string deployed_from;  // the package file's path on the target
};

struct JournalEntry {
  std::string id;
  std::string environment_id;
  std::string tenant_id;
  std::string project_id;
  std::optional<int64_t> installed_on;  // Unix ms
  std::string retention_policy_set;
  std::string extracted_to;
  std::string custom_installation_directory;
  bool was_successful = true;
  std::vector<DeployedPackage> packages;
};

class DeploymentJournal {
 public:
  explicit DeploymentJournal(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // Every entry in file order (oldest first); none when the file does not exist yet. A file that
  // is not a journal is an error (kInvalidArgument naming it), never silently replaced.
  Result<std::vector<JournalEntry>> ReadAll() const;
  // Appends `entry` (creating the file and its folder if needed).
  Result<void> Add(const JournalEntry& entry);
  // Removes the entries with these ids.
  Result<void> Remove(const std::vector<std::string>& ids);

  // The newest entry of `retention_policy_set` (case-insensitive) that deployed a package with
  // `package_id` and `package_version` (each case-insensitive; nullopt matches any), newest by
  // InstalledOn, later in the file on a tie.
  Result<std::optional<JournalEntry>> LatestInstallation(
      std::string_view retention_policy_set, std::optional<std::string_view> package_id,
      std::optional<std::string_view> package_version, bool successful_only) const;

 private:
  std::string path_;
};

// Octopus's TentacleRetentionPolicy for one deployment: keep `quantity` days of deployments, or
// the current deployment and `quantity` previous successful ones. A quantity of 0 keeps all.
struct TentacleRetention {
  enum class Unit { kDays, kItems };
  Unit unit = Unit::kItems;
  int quantity = 0;
};

struct RetentionOutcome {
  std::vector<std::string> deleted_folders;
  std::vector<std::string> removed_entries;  // journal ids
  std::vector<std::string> messages;         // what was kept and why, and folders that resisted
};

// Applies `policy` to the entries of `retention_policy_set` (exact match, as Calamari's clean
// does). Items: newest first, successful entries are kept until quantity + 1 are kept, the rest
// (and every unsuccessful entry met) are deleted; while quantity or fewer successful entries
// exist, nothing is. Days: entries installed more than `quantity` days before `clock`'s now are
// deleted. Deleting an entry removes its ExtractedTo folder (never the custom installation
// directory), unless a kept entry uses the same folder; the entry leaves the journal unless its
// folder could not be deleted.
Result<RetentionOutcome> ApplyRetention(DeploymentJournal& journal,
                                        std::string_view retention_policy_set,
                                        TentacleRetention policy, const core::Clock& clock);

}  // namespace cuttle::engine
