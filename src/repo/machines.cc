#include "repo/machines.h"

#include <algorithm>
#include <unordered_map>

#include "core/strings.h"
#include "repo/document.h"
#include "repo/machine_policies.h"
#include "repo/repo.h"
#include "repo/settings.h"
#include "repo/spaces.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "id, space_id, name, is_disabled, health_status, machine_policy_id, communication_style, "
    "thumbprint, json";
const std::string kOrder = ByteOrder("name", true) + ", LENGTH(id), " + ByteOrder("id");

MachineRow ReadMachine(const db::Row& r) {
  MachineRow m;
  m.id = r.GetString("id");
  m.space_id = r.GetString("space_id");
  m.name = r.GetString("name");
  m.is_disabled = r.GetBool("is_disabled");
  m.health_status = r.GetString("health_status");
  m.machine_policy_id = r.GetString("machine_policy_id");
  m.communication_style = r.GetString("communication_style");
  m.thumbprint = r.GetOptionalString("thumbprint");
  m.doc = ReadDocument(r);
  return m;
}

std::vector<db::Value> Values(const std::vector<std::string>& v, bool lower = false) {
  std::vector<db::Value> out;
  for (const auto& s : v) out.emplace_back(lower ? core::ToLower(s) : s);
  return out;
}

// "id IN (SELECT machine_id FROM <table> WHERE <column> IN ({},{}...))"; matches nothing for an
// empty list.
void InChild(Where& w, const char* table, const char* column, const std::vector<std::string>& v,
             bool lower) {
  if (v.empty()) {
    w.Raw("1 = 0");
    return;
  }
  std::string sql = std::string("id IN (SELECT machine_id FROM ") + table + " WHERE " +
                    (lower ? "lower(" + std::string(column) + ")" : std::string(column)) + " IN (";
  for (size_t i = 0; i < v.size(); ++i) sql += i ? ",{}" : "{}";
  sql += "))";
  w.AddList(sql, Values(v, lower));
}

Where Filter(const MachineFilter& f, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.environment_ids)
    InChild(w, "machine_environments", "environment_id", *f.environment_ids, false);
  if (f.roles) InChild(w, "machine_roles", "role", *f.roles, true);
  if (f.health_statuses) w.InIgnoreCase("health_status", *f.health_statuses);
  if (f.communication_styles) w.InIgnoreCase("communication_style", *f.communication_styles);
  if (f.is_disabled) w.Add("is_disabled = {}", *f.is_disabled);
  if (f.name) w.Add("lower(name) = lower({})", *f.name);
  if (f.thumbprint) w.Add("thumbprint = {}", *f.thumbprint);
  w.ListFilters(q);
  return w;
}

// The roles, environments and agents' last contact of a page of machines: one statement each.
Result<void> LoadChildren(db::Database& db, std::vector<MachineRow>& machines) {
  if (machines.empty()) return {};
  db::Params ids;
  for (const auto& m : machines) ids.emplace_back(m.id);
  std::string in = "(";  // appended: GCC 12 warns -Wrestrict on "(" + std::string
  in += Placeholders(1, ids.size());
  in += ')';
  CUTTLE_TRY(auto envs, db.Execute("SELECT me.machine_id, me.environment_id FROM "
                                   "machine_environments me JOIN environments e ON e.id = "
                                   "me.environment_id WHERE me.machine_id IN " +
                                       in + " ORDER BY e.sort_order, LENGTH(e.id), e.id",
                                   ids));
  CUTTLE_TRY(auto roles, db.Execute("SELECT machine_id, role FROM machine_roles WHERE machine_id "
                                    "IN " +
                                        in + " ORDER BY role",
                                    ids));
  CUTTLE_TRY(auto agents, db.Execute("SELECT machine_id, COALESCE(last_seen_at, registered_at) "
                                     "FROM agents WHERE machine_id IN " +
                                         in,
                                     ids));
  // Each row goes to its machine through an index: matching every row against every machine was
  // quadratic, 130 ms of a deployment's start with 2,000 targets in its environment.
  std::unordered_map<std::string, MachineRow*> by_id;
  by_id.reserve(machines.size());
  for (auto& m : machines) by_id.emplace(m.id, &m);
  for (const auto& r : envs.rows) {
    if (auto it = by_id.find(r.GetString(0)); it != by_id.end()) {
      it->second->environment_ids.push_back(r.GetString(1));
    }
  }
  for (const auto& r : roles.rows) {
    if (auto it = by_id.find(r.GetString(0)); it != by_id.end()) {
      it->second->roles.push_back(r.GetString(1));
    }
  }
  for (const auto& r : agents.rows) {
    if (auto it = by_id.find(r.GetString(0)); it != by_id.end()) {
      it->second->last_contact_ms = r.GetInt(1);
    }
  }
  return {};
}

// Checks (and locks) the environments and the policy, and returns the row with their ids as
// stored.
Result<MachineRow> CheckReferences(db::Transaction& tx, MachineRow row) {
  CUTTLE_TRY(auto found, LockExisting(tx, "environments", row.space_id, row.environment_ids));
  std::vector<std::string> details;
  std::vector<std::string> canonical;
  for (const auto& id : row.environment_ids) {
    auto it = std::find_if(found.begin(), found.end(),
                           [&](const std::string& f) { return core::EqualsIgnoreCase(f, id); });
    if (it == found.end()) {
      details.push_back("The environment '" + id + "' was not found in " + row.space_id + ".");
    } else if (std::find(canonical.begin(), canonical.end(), *it) == canonical.end()) {
      canonical.push_back(*it);
    }
  }
  CUTTLE_TRY(auto policies,
             LockExisting(tx, "machine_policies", row.space_id, {row.machine_policy_id}));
  if (policies.empty()) {
    details.push_back("The machine policy '" + row.machine_policy_id + "' was not found in " +
                      row.space_id + ".");
  } else {
    row.machine_policy_id = policies.front();
  }
  if (!details.empty()) {
    return Fail(
        Error::Invalid("The deployment target could not be saved: it refers to "
                       "documents that are not in this space.",
                       details));
  }
  row.environment_ids = std::move(canonical);
  return row;
}

Result<void> SaveChildren(db::Transaction& tx, const MachineRow& row) {
  CUTTLE_TRY_VOID(ReplaceChildren(tx, "machine_environments", "machine_id", "environment_id",
                                  row.id, row.environment_ids));
  return ReplaceChildren(tx, "machine_roles", "machine_id", "role", row.id, row.roles);
}

db::Value Thumbprint(const MachineRow& row) {
  return row.thumbprint ? db::Value(*row.thumbprint) : db::Value(std::monostate{});
}

}  // namespace

Result<Page<MachineRow>> ListMachines(db::Database& db, const MachineFilter& f,
                                      const PageQuery& q) {
  CUTTLE_TRY(auto page, SelectPage<MachineRow>(db, kColumns, "machines", Filter(f, q), kOrder, q,
                                               ReadMachine));
  CUTTLE_TRY_VOID(LoadChildren(db, page.items));
  return page;
}

Result<std::vector<MachineRow>> ListAllMachines(db::Database& db, const MachineFilter& f,
                                                const PageQuery& q) {
  CUTTLE_TRY(auto rows,
             SelectAll<MachineRow>(db, kColumns, "machines", Filter(f, q), kOrder, ReadMachine));
  CUTTLE_TRY_VOID(LoadChildren(db, rows));
  return rows;
}

Result<std::optional<MachineRow>> FindMachine(db::Database& db, const std::string& space_id,
                                              const std::string& id) {
  Where w;
  w.Add("space_id = {}", space_id).Add("lower(id) = {}", core::ToLower(id));
  CUTTLE_TRY(auto rows, SelectAll<MachineRow>(db, kColumns, "machines", w, kOrder, ReadMachine));
  if (rows.empty()) return std::optional<MachineRow>();
  CUTTLE_TRY_VOID(LoadChildren(db, rows));
  return std::optional<MachineRow>(std::move(rows.front()));
}

Result<void> CompleteMachine(db::Transaction& tx, MachineRow& m) {
  if (m.machine_policy_id.empty()) {
    CUTTLE_TRY(auto policy, DefaultMachinePolicyId(tx, m.space_id));
    m.machine_policy_id = policy.value_or("MachinePolicies-1");
  }
  if (!m.doc.contains("Endpoint") || !m.doc["Endpoint"].is_object()) {
    m.doc["Endpoint"] = nlohmann::json::object();
  }
  if (!m.doc["Endpoint"].contains("Id")) {
    CUTTLE_TRY(m.doc["Endpoint"]["Id"], NextId(tx, "Endpoints"));
  }
  return {};
}

Result<MachineRow> InsertMachine(db::Transaction& tx, MachineRow row) {
  CUTTLE_TRY_VOID(LockSpace(tx, row.space_id));
  CUTTLE_TRY(row, CheckReferences(tx, std::move(row)));
  CUTTLE_TRY(row.id, NextId(tx, "Machines"));
  auto inserted = tx.Execute(
      "INSERT INTO machines (id, space_id, name, is_disabled, health_status, machine_policy_id, "
      "communication_style, thumbprint, json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {row.id, row.space_id, row.name, row.is_disabled, row.health_status, row.machine_policy_id,
       row.communication_style, Thumbprint(row), row.doc.dump()});
  if (!inserted) return Fail(NameTaken(inserted.error(), "A deployment target", row.name));
  CUTTLE_TRY_VOID(SaveChildren(tx, row));
  return row;
}

Result<bool> UpdateMachine(db::Transaction& tx, const MachineRow& original) {
  CUTTLE_TRY(auto row, CheckReferences(tx, original));
  auto updated = tx.Execute(
      "UPDATE machines SET name = $3, is_disabled = $4, health_status = $5, machine_policy_id = "
      "$6, communication_style = $7, thumbprint = $8, json = $9 WHERE space_id = $1 AND id = $2",
      {row.space_id, row.id, row.name, row.is_disabled, row.health_status, row.machine_policy_id,
       row.communication_style, Thumbprint(row), row.doc.dump()});
  if (!updated) return Fail(NameTaken(updated.error(), "A deployment target", row.name));
  if (updated->affected == 0) return false;
  CUTTLE_TRY_VOID(SaveChildren(tx, row));
  return true;
}

Result<bool> DeleteMachine(db::Transaction& tx, const std::string& space_id,
                           const std::string& id) {
  CUTTLE_TRY(auto deleted,
             tx.Execute("DELETE FROM machines WHERE space_id = $1 AND id = $2", {space_id, id}));
  if (deleted.affected == 0) return false;
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM machine_environments WHERE machine_id = $1", {id}));
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM machine_roles WHERE machine_id = $1", {id}));
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM agents WHERE machine_id = $1", {id}));
  CUTTLE_TRY_VOID(
      tx.Execute("UPDATE agent_commands SET state = 'canceled', finished_at = now_ms(), error = "
                 "'the deployment target was deleted' WHERE machine_id = $1 AND state IN "
                 "('queued', 'offered')",
                 {id}));
  return true;
}

}  // namespace cuttle::repo
