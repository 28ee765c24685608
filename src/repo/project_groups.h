// The project groups aggregate: rows of `project_groups`. Thread-safe as the Database is.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct ProjectGroupRow {
  std::string id;
  std::string space_id;
  std::string name;
  std::string description;
  std::vector<std::string> environment_ids;  // Octopus's legacy field; checked on save
  std::optional<std::string> retention_policy_id;
  nlohmann::json extra = nlohmann::json::object();  // properties Cuttle does not know
};

// Ordered by id number.
Result<Page<ProjectGroupRow>> ListProjectGroups(db::Database& db, const std::string& space_id,
                                                const PageQuery& q);
Result<std::vector<ProjectGroupRow>> ListAllProjectGroups(db::Database& db,
                                                          const std::string& space_id,
                                                          const PageQuery& q);
Result<std::optional<ProjectGroupRow>> FindProjectGroup(db::Database& db,
                                                        const std::string& space_id,
                                                        const std::string& id);

// environment_ids must be environments of the space (kInvalidArgument naming the missing ones);
// a name already used in the space is kAlreadyExists. Insert assigns the id when it is empty.
Result<ProjectGroupRow> InsertProjectGroup(db::Transaction& tx, ProjectGroupRow row);
Result<bool> UpdateProjectGroup(db::Transaction& tx, const ProjectGroupRow& row);
Result<bool> DeleteProjectGroup(db::Transaction& tx, const std::string& space_id,
                                const std::string& id);

}  // namespace cuttle::repo
