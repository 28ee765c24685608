#include "repo/spaces.h"

#include "core/strings.h"
#include "repo/document.h"
#include "repo/projects.h"
#include "repo/repo.h"

namespace cuttle::repo {

namespace {

constexpr const char* kColumns =
    "id, name, slug, description, is_default, task_queue_stopped, json";
const std::string kOrder = "LENGTH(id), " + ByteOrder("id");

SpaceRow ReadSpace(const db::Row& r) {
  return SpaceRow{r.GetString("id"),       r.GetString("name"),
                  r.GetString("slug"),     r.GetString("description"),
                  r.GetBool("is_default"), r.GetBool("task_queue_stopped"),
                  ReadDocument(r)};
}

// Names are unique case-insensitively: checked here for the message, and settled between
// concurrent creates by the unique index on lower(name).
Result<void> CheckNameFree(db::Transaction& tx, const SpaceRow& space) {
  CUTTLE_TRY(auto rows,
             tx.Execute("SELECT id FROM spaces WHERE lower(name) = lower($1) AND id <> $2",
                        {space.name, space.id}));
  if (rows.empty()) return {};
  return Fail(Error::AlreadyExists("A space with the name '" + space.name + "' already exists."));
}

}  // namespace

Result<Page<SpaceRow>> ListSpaces(db::Database& db, const PageQuery& q) {
  Where w;
  w.ListFilters(q);
  return SelectPage<SpaceRow>(db, kColumns, "spaces", w, kOrder, q, ReadSpace);
}

Result<std::vector<SpaceRow>> ListAllSpaces(db::Database& db, const PageQuery& q) {
  Where w;
  w.ListFilters(q);
  return SelectAll<SpaceRow>(db, kColumns, "spaces", w, kOrder, ReadSpace);
}

Result<std::optional<SpaceRow>> FindSpace(db::Database& db, const std::string& id) {
  Where w;
  w.Add("lower(id) = lower({})", id);
  CUTTLE_TRY(auto rows, SelectAll<SpaceRow>(db, kColumns, "spaces", w, kOrder, ReadSpace));
  if (rows.empty()) return std::optional<SpaceRow>();
  return std::optional<SpaceRow>(std::move(rows.front()));
}

Result<SpaceRow> InsertSpace(db::Transaction& tx, SpaceRow space) {
  CUTTLE_TRY(space.id, NextId(tx, "Spaces"));
  CUTTLE_TRY_VOID(CheckNameFree(tx, space));
  auto inserted = tx.Execute(
      "INSERT INTO spaces (id, name, slug, description, is_default, task_queue_stopped, json) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {space.id, space.name, space.slug, space.description, space.is_default,
       space.task_queue_stopped, space.extra.dump()});
  if (!inserted) {
    if (inserted.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(
          Error::AlreadyExists("A space with the name '" + space.name + "' already exists."));
    }
    return Fail(inserted.error());
  }
  CUTTLE_TRY_VOID(CreateSpaceDefaults(tx, space.id));
  return space;
}

Result<bool> UpdateSpace(db::Transaction& tx, const SpaceRow& space) {
  CUTTLE_TRY_VOID(CheckNameFree(tx, space));
  auto updated = tx.Execute(
      "UPDATE spaces SET name = $2, slug = $3, description = $4, task_queue_stopped = $5, "
      "json = $6 WHERE id = $1",
      {space.id, space.name, space.slug, space.description, space.task_queue_stopped,
       space.extra.dump()});
  if (!updated) {
    if (updated.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(
          Error::AlreadyExists("A space with the name '" + space.name + "' already exists."));
    }
    return Fail(updated.error());
  }
  return updated->affected > 0;
}

Result<bool> DeleteSpace(db::Transaction& tx, const std::string& id) {
  // Lock the space's row first: a task enqueued or a resource created concurrently in it reads
  // the space (RouteSpace) before, so this delete and their checks are ordered by the row.
  CUTTLE_TRY(auto rows, tx.Execute("UPDATE spaces SET id = id WHERE id = $1 "
                                   "RETURNING name, is_default, task_queue_stopped",
                                   {id}));
  if (rows.empty()) return false;
  const std::string name = rows.front().GetString(0);
  if (rows.front().GetBool(1)) {
    return Fail(
        Error::Conflict("The space '" + name + "' is the default space and cannot be deleted."));
  }
  if (!rows.front().GetBool(2)) {
    return Fail(Error::Conflict("The space '" + name +
                                "' cannot be deleted while its task queue is running: stop the "
                                "task queue first (TaskQueueStopped: true)."));
  }
  CUTTLE_TRY(auto tasks, tx.Execute("SELECT COUNT(*) FROM server_tasks WHERE space_id = $1 AND "
                                    "state IN ('Queued', 'Executing', 'Cancelling')",
                                    {id}));
  if (const int64_t n = tasks.front().GetInt(0); n > 0) {
    return Fail(Error::Conflict("The space '" + name + "' cannot be deleted: it has " +
                                std::to_string(n) + " queued or running task" +
                                (n == 1 ? "" : "s") + "."));
  }
  CUTTLE_TRY(auto project, ProjectNaming(tx, "space_id", id));
  if (project) {
    return Fail(Error::Conflict("The space '" + name +
                                "' cannot be deleted: it still holds the "
                                "project '" +
                                *project + "'. Delete its projects first."));
  }
  // Children first (they are found through their parents' space).
  for (const char* sql : {
           "DELETE FROM lifecycle_environments WHERE lifecycle_id IN "
           "(SELECT id FROM lifecycles WHERE space_id = $1)",
           "DELETE FROM machine_environments WHERE machine_id IN "
           "(SELECT id FROM machines WHERE space_id = $1)",
           "DELETE FROM machine_roles WHERE machine_id IN "
           "(SELECT id FROM machines WHERE space_id = $1)",
           // Its agents are revoked with their machines (repo::DeleteMachine does the same).
           "DELETE FROM agents WHERE space_id = $1",
           "UPDATE agent_commands SET state = 'canceled', finished_at = now_ms(), error = 'the "
           "space was deleted' WHERE space_id = $1 AND state IN ('queued', 'offered')",
           "DELETE FROM machines WHERE space_id = $1",
           "DELETE FROM machine_policies WHERE space_id = $1",
           "DELETE FROM lifecycles WHERE space_id = $1",
           "DELETE FROM project_groups WHERE space_id = $1",
           "DELETE FROM environments WHERE space_id = $1",
           // Its library variable sets and their variables (no project is left to include one).
           "DELETE FROM model_references WHERE document_id IN "
           "(SELECT variable_set_id FROM library_variable_sets WHERE space_id = $1)",
           "DELETE FROM project_library_variable_sets WHERE library_variable_set_id IN "
           "(SELECT id FROM library_variable_sets WHERE space_id = $1)",
           "DELETE FROM variable_sets WHERE owner_id IN "
           "(SELECT id FROM library_variable_sets WHERE space_id = $1)",
           "DELETE FROM library_variable_sets WHERE space_id = $1",
       }) {
    CUTTLE_TRY_VOID(tx.Execute(sql, {id}));
  }
  CUTTLE_TRY_VOID(tx.Execute("DELETE FROM spaces WHERE id = $1", {id}));
  return true;
}

Result<void> LockSpace(db::Transaction& tx, const std::string& space_id) {
  CUTTLE_TRY(auto rows, tx.Execute("UPDATE spaces SET id = id WHERE id = $1", {space_id}));
  if (rows.affected == 0) return Fail(Error::NotFound("space", space_id));
  return {};
}

Result<void> CreateSpaceDefaults(db::Transaction& tx, const std::string& space_id) {
  CUTTLE_TRY(auto lifecycle, NextId(tx, "Lifecycles"));
  CUTTLE_TRY_VOID(
      tx.Execute("INSERT INTO lifecycles (id, space_id, name) VALUES ($1, $2, 'Default Lifecycle')",
                 {lifecycle, space_id}));
  CUTTLE_TRY(auto group, NextId(tx, "ProjectGroups"));
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO project_groups (id, space_id, name) VALUES ($1, $2, 'Default Project Group')",
      {group, space_id}));
  CUTTLE_TRY(auto policy, NextId(tx, "MachinePolicies"));
  CUTTLE_TRY_VOID(
      tx.Execute("INSERT INTO machine_policies (id, space_id, name, is_default) "
                 "VALUES ($1, $2, 'Default Machine Policy', $3)",
                 {policy, space_id, true}));
  return {};
}

}  // namespace cuttle::repo
