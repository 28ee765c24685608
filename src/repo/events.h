// The audit log: one row per create, modify or delete, written in the transaction of the change
// (so a change and its event commit or vanish together), and the filtered, paged read behind
// /api/events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct EventRow {
  std::string id;  // "Events-<n>", assigned by InsertEvent
  int64_t seq = 0;
  std::optional<std::string> space_id;  // nullopt for cluster-wide documents (nodes, spaces)
  std::string category;  // Octopus's: Created, Modified, Deleted, DeploymentQueued...
  std::string message;
  std::string user_id;
  std::string username;
  std::vector<std::string> related_document_ids;
  int64_t occurred = 0;  // database clock, ms; assigned by InsertEvent
};

// Assigns id, seq and occurred (now_ms()) and writes the event and its related documents.
Result<EventRow> InsertEvent(db::Transaction& tx, EventRow event);

struct EventFilter {
  std::optional<std::vector<std::string>> regarding;      // any of these document ids
  std::optional<std::vector<std::string>> regarding_all;  // every one of these document ids
  // Further "any of these documents" conditions, each ANDed (projects, environments...).
  std::vector<std::vector<std::string>> regarding_any_groups;
  std::optional<std::vector<std::string>> users;  // user ids
  // About a document of any of these types, named as ids are ("Users" for "Users-2"); letters only.
  std::optional<std::vector<std::string>> document_types;
  std::optional<std::vector<std::string>> categories;
  std::optional<std::vector<std::string>> spaces;
  std::optional<int64_t> from;  // occurred >= from (ms)
  std::optional<int64_t> to;    // occurred <= to (ms)
};
// Newest first.
Result<Page<EventRow>> ListEvents(db::Database& db, const EventFilter& filter, const PageQuery& q);
Result<std::optional<EventRow>> FindEvent(db::Database& db, const std::string& id);

}  // namespace cuttle::repo
