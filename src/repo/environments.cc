#include "repo/environments.h"

#include <algorithm>

#include "core/strings.h"
#include "repo/document.h"
#include "repo/repo.h"
#include "repo/spaces.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "id, space_id, name, sort_order, description, use_guided_failure, "
    "allow_dynamic_infrastructure, json";
const std::string kOrder = "sort_order, LENGTH(id), " + ByteOrder("id");

EnvironmentRow ReadEnvironment(const db::Row& r) {
  EnvironmentRow e;
  e.id = r.GetString("id");
  e.space_id = r.GetString("space_id");
  e.name = r.GetString("name");
  e.sort_order = r.GetInt("sort_order");
  e.description = r.GetString("description");
  e.use_guided_failure = r.GetBool("use_guided_failure");
  e.allow_dynamic_infrastructure = r.GetBool("allow_dynamic_infrastructure");
  e.extra = ReadDocument(r);
  return e;
}

Where Filter(const EnvironmentFilter& f, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", f.space_id);
  if (f.name) w.Add("lower(name) = lower({})", *f.name);
  w.ListFilters(q);
  return w;
}

}  // namespace

Result<Page<EnvironmentRow>> ListEnvironments(db::Database& db, const EnvironmentFilter& f,
                                              const PageQuery& q) {
  return SelectPage<EnvironmentRow>(db, kColumns, "environments", Filter(f, q), kOrder, q,
                                    ReadEnvironment);
}

Result<std::vector<EnvironmentRow>> ListAllEnvironments(db::Database& db,
                                                        const EnvironmentFilter& f,
                                                        const PageQuery& q) {
  return SelectAll<EnvironmentRow>(db, kColumns, "environments", Filter(f, q), kOrder,
                                   ReadEnvironment);
}

Result<std::optional<EnvironmentRow>> FindEnvironment(db::Database& db, const std::string& space_id,
                                                      const std::string& id) {
  Where w;
  w.Add("space_id = {}", space_id).Add("lower(id) = {}", core::ToLower(id));
  CUTTLE_TRY(auto rows,
             SelectAll<EnvironmentRow>(db, kColumns, "environments", w, kOrder, ReadEnvironment));
  if (rows.empty()) return std::optional<EnvironmentRow>();
  return std::optional<EnvironmentRow>(std::move(rows.front()));
}

Result<EnvironmentRow> InsertEnvironment(db::Transaction& tx, EnvironmentRow env) {
  CUTTLE_TRY_VOID(LockSpace(tx, env.space_id));
  CUTTLE_TRY(env.id, NextId(tx, "Environments"));
  if (env.sort_order < 0) {
    CUTTLE_TRY(auto rows, tx.Execute("SELECT COALESCE(MAX(sort_order) + 1, 0) FROM environments "
                                     "WHERE space_id = $1",
                                     {env.space_id}));
    env.sort_order = rows.front().GetInt(0);
  }
  auto inserted = tx.Execute(
      "INSERT INTO environments (id, space_id, name, sort_order, description, "
      "use_guided_failure, allow_dynamic_infrastructure, json) VALUES ($1, $2, $3, $4, $5, $6, "
      "$7, $8)",
      {env.id, env.space_id, env.name, env.sort_order, env.description, env.use_guided_failure,
       env.allow_dynamic_infrastructure, env.extra.dump()});
  if (!inserted) return Fail(NameTaken(inserted.error(), "An environment", env.name));
  return env;
}

Result<bool> UpdateEnvironment(db::Transaction& tx, const EnvironmentRow& env) {
  auto updated = tx.Execute(
      "UPDATE environments SET name = $3, sort_order = $4, description = $5, "
      "use_guided_failure = $6, allow_dynamic_infrastructure = $7, json = $8 "
      "WHERE space_id = $1 AND id = $2",
      {env.space_id, env.id, env.name, env.sort_order, env.description, env.use_guided_failure,
       env.allow_dynamic_infrastructure, env.extra.dump()});
  if (!updated) return Fail(NameTaken(updated.error(), "An environment", env.name));
  return updated->affected > 0;
}

Result<bool> DeleteEnvironment(db::Transaction& tx, const std::string& space_id,
                               const std::string& id) {
  // Delete first, then look for references: the delete holds the row's lock, and a lifecycle or
  // machine saved concurrently either locked the row first (its commit is then visible to the
  // checks below, which run after the delete waited) or finds it gone (LockExisting).
  CUTTLE_TRY(auto deleted,
             tx.Execute("DELETE FROM environments WHERE space_id = $1 AND id = $2 RETURNING name",
                        {space_id, id}));
  if (deleted.empty()) return false;
  const std::string name = deleted.front().GetString(0);
  CUTTLE_TRY(auto lifecycles,
             tx.Execute("SELECT l.id, l.name FROM lifecycle_environments le JOIN lifecycles l ON "
                        "l.id = le.lifecycle_id WHERE le.environment_id = $1 ORDER BY " +
                            ByteOrder("l.name"),
                        {id}));
  if (!lifecycles.empty()) {
    return Fail(
        Error::Conflict("The environment '" + name + "' cannot be deleted: the lifecycle '" +
                        lifecycles.front().GetString(1) + "' (" + lifecycles.front().GetString(0) +
                        ") uses it. Remove it from the lifecycle's phases first."));
  }
  CUTTLE_TRY(auto machines,
             tx.Execute("SELECT m.id, m.name FROM machine_environments me JOIN machines m ON "
                        "m.id = me.machine_id WHERE me.environment_id = $1 ORDER BY " +
                            ByteOrder("m.name"),
                        {id}));
  if (!machines.empty()) {
    return Fail(Error::Conflict(
        "The environment '" + name + "' cannot be deleted: the deployment target '" +
        machines.front().GetString(1) + "' (" + machines.front().GetString(0) +
        ") is in it. Remove the target from the environment first."));
  }
  return true;
}

Result<void> ReorderEnvironments(db::Transaction& tx, const std::string& space_id,
                                 const std::vector<std::string>& ordered_ids) {
  CUTTLE_TRY(
      auto rows,
      tx.Execute("SELECT id FROM environments WHERE space_id = $1 ORDER BY " + kOrder, {space_id}));
  std::vector<std::string> present;
  for (const auto& r : rows.rows) present.push_back(r.GetString(0));
  std::vector<std::string> order, unknown;
  for (const auto& wanted : ordered_ids) {
    auto it = std::find_if(present.begin(), present.end(),
                           [&](const std::string& p) { return core::EqualsIgnoreCase(p, wanted); });
    if (it == present.end()) {
      unknown.push_back(wanted);
    } else if (std::find(order.begin(), order.end(), *it) == order.end()) {
      order.push_back(*it);
    }
  }
  if (!unknown.empty()) {
    std::vector<std::string> details;
    for (const auto& u : unknown) details.push_back("The environment '" + u + "' was not found.");
    return Fail(Error::Invalid("The environment order could not be saved.", details));
  }
  for (const auto& p : present) {
    if (std::find(order.begin(), order.end(), p) == order.end()) order.push_back(p);
  }
  for (size_t i = 0; i < order.size(); ++i) {
    CUTTLE_TRY_VOID(tx.Execute("UPDATE environments SET sort_order = $1 WHERE id = $2",
                               {static_cast<int64_t>(i), order[i]}));
  }
  return {};
}

}  // namespace cuttle::repo
