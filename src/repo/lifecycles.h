// The lifecycles aggregate: rows of `lifecycles` (the phases live in the row's JSON document,
// model/lifecycle.h reads them) and `lifecycle_environments`, every environment the phases name,
// so that an environment in use can be found by an index lookup. Thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct LifecycleRow {
  std::string id;
  std::string space_id;
  std::string name;
  // Description, Slug, Phases, ReleaseRetentionPolicy, TentacleRetentionPolicy and unknown keys.
  nlohmann::json doc = nlohmann::json::object();
};

// Ordered by id number.
Result<Page<LifecycleRow>> ListLifecycles(db::Database& db, const std::string& space_id,
                                          const PageQuery& q);
Result<std::vector<LifecycleRow>> ListAllLifecycles(db::Database& db, const std::string& space_id,
                                                    const PageQuery& q);
Result<std::optional<LifecycleRow>> FindLifecycle(db::Database& db, const std::string& space_id,
                                                  const std::string& id);
Result<std::optional<LifecycleRow>> FindLifecycle(db::Transaction& tx, const std::string& space_id,
                                                  const std::string& id);

// `environment_ids`: every environment the phases name; each must be an environment of the
// lifecycle's space (checked and locked here: kInvalidArgument naming the missing ones). A name
// already used in the space is kAlreadyExists. Insert assigns the id when it is empty.
Result<LifecycleRow> InsertLifecycle(db::Transaction& tx, LifecycleRow row,
                                     const std::vector<std::string>& environment_ids);
// Returns false if there is no such lifecycle in row.space_id.
Result<bool> UpdateLifecycle(db::Transaction& tx, const LifecycleRow& row,
                             const std::vector<std::string>& environment_ids);
Result<bool> DeleteLifecycle(db::Transaction& tx, const std::string& space_id,
                             const std::string& id);

}  // namespace cuttle::repo
