// Machine policies: one default policy per space, created with the space; read-only through the
// API for now. Thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct MachinePolicyRow {
  std::string id;
  std::string space_id;
  std::string name;
  bool is_default = false;
  nlohmann::json doc = nlohmann::json::object();  // the policy's settings (defaults when absent)
};

Result<Page<MachinePolicyRow>> ListMachinePolicies(db::Database& db, const std::string& space_id,
                                                   const PageQuery& q);
Result<std::vector<MachinePolicyRow>> ListAllMachinePolicies(db::Database& db,
                                                             const std::string& space_id,
                                                             const PageQuery& q);
Result<std::optional<MachinePolicyRow>> FindMachinePolicy(db::Database& db,
                                                          const std::string& space_id,
                                                          const std::string& id);
// The space's default policy id (in `tx`), or nullopt.
Result<std::optional<std::string>> DefaultMachinePolicyId(db::Transaction& tx,
                                                          const std::string& space_id);
// Whether `id` is a policy of the space (case-insensitive); returns its id as stored.
Result<std::optional<std::string>> FindMachinePolicyId(db::Transaction& tx,
                                                       const std::string& space_id,
                                                       const std::string& id);

}  // namespace cuttle::repo
