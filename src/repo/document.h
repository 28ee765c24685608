// Small helpers shared by the aggregates that keep part of their Octopus document as a JSON column
// (environments, lifecycles, project groups, machines...). Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

// The object stored in a `json` column; {} when the column is empty or not an object (it is
// written only by this program, but a hand-edited row must not take a listing down).
nlohmann::json ReadDocument(const db::Row& row, std::string_view column = "json");

// "$first,$first+1,..." for `count` parameters: the body of an IN list.
std::string Placeholders(size_t first, size_t count);

// Replaces the child rows of `parent_id` in `table` (parent_column, value_column) by `values`
// (duplicates dropped): the environments a lifecycle names, a machine's roles...
Result<void> ReplaceChildren(db::Transaction& tx, std::string_view table,
                             std::string_view parent_column, std::string_view value_column,
                             const std::string& parent_id, const std::vector<std::string>& values);

// Which of `ids` are rows of `table` in `space_id` (compared case-insensitively, returned as
// stored). The rows found are locked until the transaction ends (on PostgreSQL), so a reference
// checked here cannot be deleted before the referring row commits.
Result<std::vector<std::string>> LockExisting(db::Transaction& tx, std::string_view table,
                                              const std::string& space_id,
                                              const std::vector<std::string>& ids);

// Turns a unique-index violation on (space_id, lower(name)) into the message a client can act on;
// `kind` starts the sentence ("An environment").
Error NameTaken(const Error& e, std::string_view kind, std::string_view name);

}  // namespace cuttle::repo
