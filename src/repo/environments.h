// The environments aggregate: rows of `environments`, one space each, ordered by SortOrder.
// Functions are thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct EnvironmentRow {
  std::string id;
  std::string space_id;
  std::string name;
  int64_t sort_order = 0;
  std::string description;
  bool use_guided_failure = false;
  bool allow_dynamic_infrastructure = false;
  // The rest of the document: ExtensionSettings, Slug and any property a client sent that Cuttle
  // does not know (kept, and given back).
  nlohmann::json extra = nlohmann::json::object();
};

struct EnvironmentFilter {
  std::string space_id;
  std::optional<std::string> name;  // exact, case-insensitive
};

// Ordered by SortOrder, then id number.
Result<Page<EnvironmentRow>> ListEnvironments(db::Database& db, const EnvironmentFilter& f,
                                              const PageQuery& q);
Result<std::vector<EnvironmentRow>> ListAllEnvironments(db::Database& db,
                                                        const EnvironmentFilter& f,
                                                        const PageQuery& q);
// By id (case-insensitive), in `space_id` only: another space's environment is not found.
Result<std::optional<EnvironmentRow>> FindEnvironment(db::Database& db, const std::string& space_id,
                                                      const std::string& id);

// Assigns the id; a sort_order below 0 means "after the last one". A name already used in the
// space is kAlreadyExists with a message that says so.
Result<EnvironmentRow> InsertEnvironment(db::Transaction& tx, EnvironmentRow env);
// Returns false if there is no such environment in env.space_id.
Result<bool> UpdateEnvironment(db::Transaction& tx, const EnvironmentRow& env);

// Deletes the environment unless a lifecycle or a machine names it; then kConflict names the
// first such document. Returns false if there is no such environment.
Result<bool> DeleteEnvironment(db::Transaction& tx, const std::string& space_id,
                               const std::string& id);

// Gives `ordered_ids` the sort orders 0, 1, 2...; the space's other environments follow, in
// their present order. Every id must be an environment of the space (else kInvalidArgument
// naming the unknown ones, and nothing changes).
Result<void> ReorderEnvironments(db::Transaction& tx, const std::string& space_id,
                                 const std::vector<std::string>& ordered_ids);

}  // namespace cuttle::repo
