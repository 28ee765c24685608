// The variable sets aggregate: a project's set ("variableset-Projects-1") or a library variable
// set's ("variableset-LibraryVariableSets-1"). `variables` is the Octopus Variables[] array as
// stored: a sensitive variable carries "SealedValue" (crypto::SecretBox) and never a plain Value.
// The library variable sets' own rows (name, content type) are here too.
//
// Saves are optimistic, as processes' are: one conditional UPDATE on the version the client read.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct VariableSetRow {
  std::string id;
  std::string space_id;
  std::string owner_id;
  int64_t version = 0;
  nlohmann::json variables = nlohmann::json::array();
};

Result<std::optional<VariableSetRow>> FindVariableSet(db::Database& db, const std::string& space_id,
                                                      const std::string& id);
Result<std::optional<VariableSetRow>> FindVariableSet(db::Transaction& tx,
                                                      const std::string& space_id,
                                                      const std::string& id);
Result<void> InsertVariableSet(db::Transaction& tx, const VariableSetRow& v);
// As UpdateProcess: the new version, or nullopt when the row's version is not `expected_version`.
Result<std::optional<int64_t>> UpdateVariableSet(db::Transaction& tx, const VariableSetRow& v,
                                                 int64_t expected_version);
Result<void> DeleteVariableSetsOf(db::Transaction& tx, const std::string& owner_id);
// Freezes each of `set_ids` (its variables and version; a set that does not exist as an empty one
// at version 0) as a new variable set owned by `owner_id`: a release or runbook, neither a project
// nor a library set, so no save reaches the copy. Returns the copies' ids (NextSnapshotId of the
// set's id), in the order of `set_ids`. The one way releases and runbook snapshots freeze their
// variables.
Result<std::vector<std::string>> FreezeVariableSets(db::Transaction& tx,
                                                    const std::string& space_id,
                                                    const std::string& owner_id,
                                                    const std::vector<std::string>& set_ids);

struct LibraryVariableSetRow {
  std::string id;
  std::string space_id;
  std::string name;
  std::string variable_set_id;
  std::string content_type;                       // Variables | ScriptModule
  nlohmann::json doc = nlohmann::json::object();  // Description, Templates, ...
};

struct LibraryVariableSetFilter {
  std::string space_id;
  std::optional<std::string> content_type;
};

// Ordered by name.
Result<Page<LibraryVariableSetRow>> ListLibraryVariableSets(db::Database& db,
                                                            const LibraryVariableSetFilter& f,
                                                            const PageQuery& q);
Result<std::vector<LibraryVariableSetRow>> ListAllLibraryVariableSets(
    db::Database& db, const LibraryVariableSetFilter& f, const PageQuery& q);
Result<std::optional<LibraryVariableSetRow>> FindLibraryVariableSet(db::Database& db,
                                                                    const std::string& space_id,
                                                                    const std::string& id);
Result<void> InsertLibraryVariableSet(db::Transaction& tx, const LibraryVariableSetRow& l);
Result<void> UpdateLibraryVariableSet(db::Transaction& tx, const LibraryVariableSetRow& l);
Result<void> DeleteLibraryVariableSet(db::Transaction& tx, const std::string& id);

}  // namespace cuttle::repo

namespace cuttle::repo {

// What a variable set's scopes may name, for its ScopeValues: {id, name} pairs in display order.
struct NamedRef {
  std::string id;
  std::string name;
};
struct ScopeCandidates {
  std::vector<NamedRef> environments;  // by sort order
  std::vector<NamedRef> machines;
  std::vector<std::string> roles;  // every role of a machine of the space
  std::vector<NamedRef> channels;  // the project's (empty for a library set)
};
// `project_id` empty: a library variable set's candidates (no channels).
Result<ScopeCandidates> ListScopeCandidates(db::Database& db, const std::string& space_id,
                                            const std::string& project_id);

}  // namespace cuttle::repo
