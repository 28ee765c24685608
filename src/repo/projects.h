// The projects aggregate: rows of `projects` and of `project_library_variable_sets` (a project's
// IncludedLibraryVariableSetIds, in order). The Octopus fields that nothing filters on live in
// `doc`. Creating a project also creates its process, variable set and default channel; that
// composition is the API's (api/projects.cc), in one transaction.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct ProjectRow {
  std::string id;
  std::string space_id;
  std::string name;
  std::string slug;
  std::string project_group_id;
  std::string lifecycle_id;
  std::vector<std::string> included_library_variable_set_ids;
  nlohmann::json doc = nlohmann::json::object();  // every other Octopus field
};

// The document's IsDisabled, the one reading of it: true, or the text "true" in any case, as
// core::FlagMember reads every flag. The projects.is_disabled column the dashboard reads
// (migration 0010) is written from it, and deployments are refused by it.
bool ProjectIsDisabled(const ProjectRow& p);

struct ProjectFilter {
  std::string space_id;
  std::optional<std::string> project_group_id;
  std::optional<std::string> name;  // exact, case-insensitive
};

// Ordered by name.
Result<Page<ProjectRow>> ListProjects(db::Database& db, const ProjectFilter& f, const PageQuery& q);
Result<std::vector<ProjectRow>> ListAllProjects(db::Database& db, const ProjectFilter& f,
                                                const PageQuery& q);
// By id (case-insensitive) or else by slug, within the space.
Result<std::optional<ProjectRow>> FindProject(db::Database& db, const std::string& space_id,
                                              const std::string& id_or_slug);
Result<std::optional<ProjectRow>> FindProject(db::Transaction& tx, const std::string& space_id,
                                              const std::string& id_or_slug);

// Name or slug taken by another project of the space: kAlreadyExists from the unique indexes.
Result<void> InsertProject(db::Transaction& tx, const ProjectRow& p);
Result<void> UpdateProject(db::Transaction& tx, const ProjectRow& p);
Result<void> DeleteProject(db::Transaction& tx, const std::string& id);

// Projects of the space that include the library variable set.
Result<std::vector<std::string>> ProjectsIncluding(db::Transaction& tx,
                                                   const std::string& library_variable_set_id);

// The ids of `ids` that are not rows of `table` in `space_id` (compared case-insensitively),
// for references a request names. `table` is one of the model's table names, never user input.
Result<std::vector<std::string>> MissingInSpace(db::Transaction& tx, std::string_view table,
                                                const std::string& space_id,
                                                const std::vector<std::string>& ids);
Result<std::vector<std::string>> MissingInSpace(db::Database& db, std::string_view table,
                                                const std::string& space_id,
                                                const std::vector<std::string>& ids);

// The name of a project that refers to `id` through `column` ("lifecycle_id": a project's or a
// channel's lifecycle; "project_group_id"; "space_id"), or nullopt. The deletes of lifecycles,
// project groups and spaces call it after deleting, and refuse (409) when it names one.
Result<std::optional<std::string>> ProjectNaming(db::Transaction& tx, std::string_view column,
                                                 const std::string& id);

// What a process or a variable set names (environments, channels, machines), replaced on each
// save, and the first document that names `referenced_id` (nullopt if none): the deletes of
// environments and channels refuse while one does.
Result<void> ReplaceReferences(db::Transaction& tx, const std::string& document_id,
                               const std::vector<std::string>& referenced_ids);
Result<void> DeleteReferencesOf(db::Transaction& tx, const std::vector<std::string>& document_ids);
Result<std::optional<std::string>> DocumentNaming(db::Transaction& tx,
                                                  const std::string& referenced_id);

}  // namespace cuttle::repo
