// The dashboard's cache (reference-octopus-deployment-model.md §2.13). Building the dashboard of a
// space with 1,000 projects × 10 environments reads 10,000 cells and writes about 6 MB of JSON;
// portals poll it every few seconds and it rarely changes between polls. Migration 0010 keeps a
// counter per space (dashboard_changes) that triggers raise whenever a row the dashboard shows
// changes, in the same transaction. A node keeps the last bodies it built, each under the counter
// value it read before reading the rows: while the counter is unchanged the body is still exact,
// so every node can answer from memory and the cluster needs no invalidation messages.
// After a change, migration 0013 says what changed: each cell carries the counter value its
// commit took, and the counter's row the value at the last change of anything else (layout). A
// node keeps, beside the unfiltered body, each cell's JSON text; while the layout is unchanged it
// rereads only the cells stamped after its build and splices them in.
// One build at a time per variant: requests arriving during a build wait for it and share it.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cuttle::api {

// What an incremental build of the unfiltered dashboard starts from.
struct DashboardParts {
  int64_t version = -1;            // the counter value it was built at; -1: nothing built
  std::string head;                // {"Projects":…,"Environments":…,"Items":[
  std::vector<std::string> items;  // each cell's JSON
  std::unordered_map<std::string, size_t> index;  // project id '\n' environment id → items
  std::string tail;                               // ],"PreviousItems":[],…}
  size_t body_size = 0;                           // the last body's size, to reserve
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
