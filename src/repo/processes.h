// The processes aggregate: deployment processes (owner: a project, kind "Deployment") and runbook
// processes (owner: a runbook, kind "Runbook") share one table and one shape. `steps` is the
// Octopus Steps[] array as the model normalized it.
//
// Saves are optimistic: UpdateProcess writes only if the row still has the version the client
// read, in one conditional UPDATE, so two nodes saving at once cannot both win (DESIGN.md: every
// decision between nodes is a conditional SQL statement).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

inline constexpr const char* kDeploymentProcess = "Deployment";
inline constexpr const char* kRunbookProcess = "Runbook";
// A release's frozen copy of a deployment process: readable at /deploymentprocesses/{id} like the
// live one, never saved. Its owner is the project too (ProjectId reads right, and deleting the
// project deletes it); the release names it by id.
inline constexpr const char* kDeploymentProcessSnapshot = "DeploymentSnapshot";

struct ProcessRow {
  std::string id;  // "deploymentprocess-Projects-1", "RunbookProcess-Runbooks-1"
  std::string space_id;
  std::string owner_id;  // ProjectId or RunbookId
  std::string kind;      // kDeploymentProcess or kRunbookProcess
  int64_t version = 0;
  std::optional<std::string> last_snapshot_id;
  nlohmann::json steps = nlohmann::json::array();
};

// By id, case-insensitively, within the space.
Result<std::optional<ProcessRow>> FindProcess(db::Database& db, const std::string& space_id,
                                              const std::string& id);
Result<std::optional<ProcessRow>> FindProcess(db::Transaction& tx, const std::string& space_id,
                                              const std::string& id);

Result<void> InsertProcess(db::Transaction& tx, const ProcessRow& p);

// Writes p.steps (and p.last_snapshot_id) and bumps the version if the row's version is still
// `expected_version`. Returns the new version, or nullopt when the row has moved on (or is gone):
// nothing was written.
Result<std::optional<int64_t>> UpdateProcess(db::Transaction& tx, const ProcessRow& p,
                                             int64_t expected_version);

// Records the release that froze this process (the release helper's snapshot); no version bump.
Result<void> SetProcessSnapshot(db::Transaction& tx, const std::string& id,
                                const std::string& snapshot_id);

Result<void> DeleteProcessesOf(db::Transaction& tx, const std::string& owner_id);

}  // namespace cuttle::repo
