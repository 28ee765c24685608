// The spaces aggregate: rows of `spaces`. Spaces are cluster-wide (not inside a space). Creating
// a space also creates what every space starts with (CreateSpaceDefaults); deleting one removes
// the infrastructure inside it. Thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct SpaceRow {
  std::string id;
  std::string name;
  std::string slug;
  std::string description;
  bool is_default = false;
  bool task_queue_stopped = false;
  // SpaceManagersTeams, SpaceManagersTeamMembers and properties Cuttle does not know.
  nlohmann::json extra = nlohmann::json::object();
};

// Ordered by id number (Spaces-2 before Spaces-10).
Result<Page<SpaceRow>> ListSpaces(db::Database& db, const PageQuery& q);
Result<std::vector<SpaceRow>> ListAllSpaces(db::Database& db, const PageQuery& q);
// By id, case-insensitively.
Result<std::optional<SpaceRow>> FindSpace(db::Database& db, const std::string& id);

// Assigns the id, inserts the space and its defaults (CreateSpaceDefaults). A name already used
// (case-insensitively) is kAlreadyExists.
Result<SpaceRow> InsertSpace(db::Transaction& tx, SpaceRow space);
// Returns false if there is no such space.
Result<bool> UpdateSpace(db::Transaction& tx, const SpaceRow& space);

// Deletes a space and the environments, lifecycles, project groups, machine policies, deployment
// targets and library variable sets in it. Refused (kConflict, saying why) for the default space,
// while the task queue is not stopped, or while the space has queued or running tasks. Returns
// false if there is no such space. Events, finished tasks and packages of the space are kept.
Result<bool> DeleteSpace(db::Transaction& tx, const std::string& id);

// Takes the space's row lock until the transaction ends, so a document created in the space and
// the space's delete (which takes the same lock first) are ordered: the delete then removes the
// document, or the create finds the space gone (kNotFound). Every Insert* of a space's
// aggregate calls it.
Result<void> LockSpace(db::Transaction& tx, const std::string& space_id);

// What every space starts with, in the transaction that creates the space: "Default Lifecycle"
// (no phases: every environment, in sort order), "Default Project Group" and "Default Machine
// Policy". Ids come from the sequences, so the Default space (the first space) gets
// Lifecycles-1, ProjectGroups-1 and MachinePolicies-1.
Result<void> CreateSpaceDefaults(db::Transaction& tx, const std::string& space_id);

}  // namespace cuttle::repo
