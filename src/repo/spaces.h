// The spaces aggregate: rows of `spaces`. Spaces are cluster-wide (not inside a space).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct SpaceRow {
  std::string id;
  std::string name;
  std::string slug;
  std::string description;
  bool is_default = false;
  bool task_queue_stopped = false;
};

// Ordered by id number (Spaces-2 before Spaces-10).
Result<Page<SpaceRow>> ListSpaces(db::Database& db, const PageQuery& q);
Result<std::vector<SpaceRow>> ListAllSpaces(db::Database& db, const PageQuery& q);
// By id, case-insensitively.
Result<std::optional<SpaceRow>> FindSpace(db::Database& db, const std::string& id);

}  // namespace cuttle::repo
