#include "repo/lifecycles.h"

#include <algorithm>

#include "core/strings.h"
#include "repo/document.h"
#include "repo/repo.h"
#include "repo/spaces.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns = "id, space_id, name, json";
const std::string kOrder = "LENGTH(id), " + ByteOrder("id");

LifecycleRow ReadLifecycle(const db::Row& r) {
  return LifecycleRow{r.GetString("id"), r.GetString("space_id"), r.GetString("name"),
                      ReadDocument(r)};
}

Where InSpace(const std::string& space_id, const PageQuery& q) {
  Where w;
  w.Add("space_id = {}", space_id);
  w.ListFilters(q);
  return w;
}

// Checks and locks the environments, then replaces the lifecycle's references to them.
Result<void> SaveEnvironments(db::Transaction& tx, const LifecycleRow& row,
                              const std::vector<std::string>& environment_ids) {
  CUTTLE_TRY(auto found, LockExisting(tx, "environments", row.space_id, environment_ids));
  std::vector<std::string> missing;
  for (const auto& id : environment_ids) {
    bool present = std::any_of(found.begin(), found.end(),
                               [&](const std::string& f) { return core::EqualsIgnoreCase(f, id); });
    if (!present && std::find(missing.begin(), missing.end(), id) == missing.end()) {
      missing.push_back(id);
    }
  }
  if (!missing.empty()) {
    std::vector<std::string> details;
    for (const auto& m : missing) {
      details.push_back("The environment '" + m + "' was not found in " + row.space_id + ".");
    }
    return Fail(
        Error::Invalid("The lifecycle could not be saved: its phases name environments "
                       "that are not in this space.",
                       details));
  }
  return ReplaceChildren(tx, "lifecycle_environments", "lifecycle_id", "environment_id", row.id,
                         found);
}

}  // namespace

Result<Page<LifecycleRow>> ListLifecycles(db::Database& db, const std::string& space_id,
                                          const PageQuery& q) {
  return SelectPage<LifecycleRow>(db, kColumns, "lifecycles", InSpace(space_id, q), kOrder, q,
                                  ReadLifecycle);
}

Result<std::vector<LifecycleRow>> ListAllLifecycles(db::Database& db, const std::string& space_id,
                                                    const PageQuery& q) {
  return SelectAll<LifecycleRow>(db, kColumns, "lifecycles", InSpace(space_id, q), kOrder,
                                 ReadLifecycle);
}

Result<std::optional<LifecycleRow>> FindLifecycle(db::Database& db, const std::string& space_id,
                                                  const std::string& id) {
  CUTTLE_TRY(auto rows, db.Execute(std::string("SELECT ") + kColumns +
                                       " FROM lifecycles WHERE space_id = $1 AND lower(id) = $2",
                                   {space_id, core::ToLower(id)}));
  if (rows.empty()) return std::optional<LifecycleRow>();
  return std::optional<LifecycleRow>(ReadLifecycle(rows.front()));
}

Result<std::optional<LifecycleRow>> FindLifecycle(db::Transaction& tx, const std::string& space_id,
                                                  const std::string& id) {
  CUTTLE_TRY(auto rows, tx.Execute(std::string("SELECT ") + kColumns +
                                       " FROM lifecycles WHERE space_id = $1 AND lower(id) = $2",
                                   {space_id, core::ToLower(id)}));
  if (rows.empty()) return std::optional<LifecycleRow>();
  return std::optional<LifecycleRow>(ReadLifecycle(rows.front()));
}

Result<LifecycleRow> InsertLifecycle(db::Transaction& tx, LifecycleRow row,
                                     const std::vector<std::string>& environment_ids) {
  CUTTLE_TRY_VOID(LockSpace(tx, row.space_id));
  if (row.id.empty()) {
    CUTTLE_TRY(row.id, NextId(tx, "Lifecycles"));
  }
  auto inserted =
      tx.Execute("INSERT INTO lifecycles (id, space_id, name, json) VALUES ($1, $2, $3, $4)",
                 {row.id, row.space_id, row.name, row.doc.dump()});
  if (!inserted) return Fail(NameTaken(inserted.error(), "A lifecycle", row.name));
  CUTTLE_TRY_VOID(SaveEnvironments(tx, row, environment_ids));
  return row;
}

Result<bool> UpdateLifecycle(db::Transaction& tx, const LifecycleRow& row,
                             const std::vector<std::string>& environment_ids) {
  auto updated =
      tx.Execute("UPDATE lifecycles SET name = $3, json = $4 WHERE space_id = $1 AND id = $2",
                 {row.space_id, row.id, row.name, row.doc.dump()});
  if (!updated) return Fail(NameTaken(updated.error(), "A lifecycle", row.name));
  if (updated->affected == 0) return false;
  CUTTLE_TRY_VOID(SaveEnvironments(tx, row, environment_ids));
  return true;
}

Result<bool> DeleteLifecycle(db::Transaction& tx, const std::string& space_id,
                             const std::string& id) {
  CUTTLE_TRY(auto deleted,
             tx.Execute("DELETE FROM lifecycles WHERE space_id = $1 AND id = $2", {space_id, id}));
  if (deleted.affected == 0) return false;
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM lifecycle_environments WHERE lifecycle_id = $1", {id}));
  return true;
}

}  // namespace cuttle::repo
