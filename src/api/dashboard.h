// The dashboard's cache (reference-octopus-deployment-model.md §2.13). Building the dashboard of a
// space with 1,000 projects × 10 environments reads 10,000 cells and writes about 6 MB of JSON;
// portals poll it every few seconds and it rarely changes between polls. Migration 0010 keeps a
// counter per space (dashboard_changes) that triggers raise whenever a row the dashboard shows
// changes, in the same transaction. A node keeps the last bodies it built, each under the counter
// value it read before reading the rows: while the counter is unchanged the body is still exact,
// so every node can answer from memory and the cluster needs no invalidation messages.
// After a change, migration 0014 says what changed: each cell carries the counter value its
// commit took, and the counter's row the value at the last change of anything else (layout). A
// node keeps, with the unfiltered body, where each cell's JSON lies in it (DashboardParts), and
// rereads only the cells stamped after its build: while the layout is unchanged it splices them
// into the body; otherwise it writes the projects, groups and environments again around the
// cells that exist now, each with its new text or the one it had.
// One build at a time per variant: requests arriving during a build wait for it and share it.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cuttle::api {

// The unfiltered dashboard's last body and where each cell's JSON lies in it, which an
// incremental build splices changed cells into. Not thread-safe (a slot's build lock guards it).
class DashboardParts {
 public:
  // A full build: Start with the text before the first cell, then for each cell OpenCell, append
  // its JSON to the buffer returned, CloseCell; Finish with the text after the last one.
  void Start(std::string head);
  std::string& OpenCell(std::string key);
  void CloseCell();
  std::shared_ptr<const std::string> Finish(std::string_view tail, int64_t version);

  // An incremental build from the last body: each changed cell's new JSON replaces its old one in
  // place, a cell not seen before goes after the others. A key appears once at most.
  struct Change {
    std::string key;
    std::string json;
  };
  std::shared_ptr<const std::string> Splice(std::vector<Change> changes, int64_t version);

  // A build after a change of what the cells alone cannot say (projects, groups, environments,
  // lifecycles, a cell deleted): a new head and tail around the cells `keys` names (every cell the
  // space has now, in that order), each with its JSON from `changes` or else from the last body,
  // then any cell of `changes` that `keys` lacks. Null, leaving the parts as they were, when a
  // key is in neither: the caller then builds from scratch.
  std::shared_ptr<const std::string> Rebuild(std::string head, std::vector<std::string> keys,
                                             std::vector<Change> changes, std::string_view tail,
                                             int64_t version);

  // The counter value the body was built at; -1: nothing built (or a build failed).
  int64_t version() const { return version_; }
  void Invalidate() { version_ = -1; }
  size_t size_hint() const { return body_ ? body_->size() : 0; }

  // The filtered variants' last size, to reserve.
  size_t variant_size = 0;

 private:
  struct Cell {
    size_t offset = 0, size = 0;  // in the body
  };
  int64_t version_ = -1;
  std::shared_ptr<const std::string> body_;
  std::string building_;                           // a full build's body until Finish
  size_t items_begin_ = 0;                         // where the first cell is in the body
  size_t items_end_ = 0;                           // where the text after the last cell starts
  std::vector<Cell> cells_;                        // in body order
  std::unordered_map<std::string, size_t> index_;  // key → cells_
};

class DashboardCache {
 public:
  // One variant (space, filter) of the dashboard.
  struct Slot {
    std::mutex building;   // held for a build; guards `parts`
    DashboardParts parts;  // unfiltered variant only
    // Guarded by the cache's mutex.
    int64_t version = -1;
    std::shared_ptr<const std::string> body;
    uint64_t used = 0;
  };

  // The body of `key` if it was built at `version`.
  std::shared_ptr<const std::string> Find(const std::string& key, int64_t version) const;
  // The slot of `key`, made if missing (the least recently used of kMaxEntries others makes room).
  std::shared_ptr<Slot> Get(const std::string& key);
  // Keeps `body` as the slot's, unless a newer build got there first.
  void Store(Slot& slot, int64_t version, std::shared_ptr<const std::string> body);

  static constexpr size_t kMaxEntries = 16;

 private:
  mutable std::mutex mu_;
  mutable uint64_t tick_ = 0;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace cuttle::api
