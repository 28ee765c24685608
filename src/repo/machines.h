// The deployment targets aggregate ("machines"): rows of `machines`, with their environments and
// roles as rows of `machine_environments` and `machine_roles`, so every list filter is an index
// lookup in SQL. Thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct MachineRow {
  std::string id;
  std::string space_id;
  std::string name;
  bool is_disabled = false;
  std::string health_status = "Unknown";  // Healthy|Unhealthy|HasWarnings|Unavailable|Unknown
  std::string machine_policy_id;
  std::string communication_style;        // the endpoint's: None | TentacleActive
  std::optional<std::string> thumbprint;  // the endpoint's, for an agent
  std::vector<std::string> roles;
  std::vector<std::string> environment_ids;
  // An agent's last authenticated request (its registration until it polls), database clock in
  // ms; nullopt for a target without an agent. Read from `agents`, never written through here.
  std::optional<int64_t> last_contact_ms;
  // Endpoint, Slug, TenantIds, TenantTags, TenantedDeploymentParticipation and unknown keys.
  nlohmann::json doc = nlohmann::json::object();
};

struct MachineFilter {
  std::string space_id;
  std::optional<std::vector<std::string>> environment_ids;  // in any of
  std::optional<std::vector<std::string>> roles;            // has any of (case-insensitive)
  std::optional<std::vector<std::string>> health_statuses;  // any of
  std::optional<std::vector<std::string>> communication_styles;
  std::optional<bool> is_disabled;
  std::optional<std::string> name;  // exact, case-insensitive
  std::optional<std::string> thumbprint;
};

// Ordered by name, then id.
Result<Page<MachineRow>> ListMachines(db::Database& db, const MachineFilter& f, const PageQuery& q);
Result<std::vector<MachineRow>> ListAllMachines(db::Database& db, const MachineFilter& f,
                                                const PageQuery& q);
Result<std::optional<MachineRow>> FindMachine(db::Database& db, const std::string& space_id,
                                              const std::string& id);

// Every environment must be one of the space's and the policy one of the space's
// (kInvalidArgument naming what is missing); a name already used in the space is
// kAlreadyExists. Insert assigns the id.
// The server's parts of a target it is about to save: its policy (the space's default unless
// named) and its endpoint's id. Every creation path (the machines API, agent registration) calls
// it before InsertMachine.
Result<void> CompleteMachine(db::Transaction& tx, MachineRow& m);
Result<MachineRow> InsertMachine(db::Transaction& tx, MachineRow row);
Result<bool> UpdateMachine(db::Transaction& tx, const MachineRow& row);
// Deleting a machine also revokes its agent (its `agents` row: every later request of the agent
// is refused) and cancels its agent commands not yet running (queued, offered).
Result<bool> DeleteMachine(db::Transaction& tx, const std::string& space_id, const std::string& id);

}  // namespace cuttle::repo
