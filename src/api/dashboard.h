// The dashboard's cache (reference-octopus-deployment-model.md §2.13). Building the dashboard of a
// space with 1,000 projects × 10 environments reads 10,000 cells and writes about 6 MB of JSON;
// portals poll it every few seconds and it rarely changes between polls. Migration 0010 keeps a
// counter per space (dashboard_changes) that triggers raise whenever a row the dashboard shows
// changes, in the same transaction. A node keeps the last bodies it built, each under the counter
// value it read before reading the rows: while the counter is unchanged the body is still exact,
// so every node can answer from memory and the cluster needs no invalidation messages.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cuttle::api {

class DashboardCache {
 public:
  // The body stored under `key` if it was built at `version`.
  std::shared_ptr<const std::string> Find(const std::string& key, int64_t version) const;
  // Keeps `body` for `key` (the least recently used of kMaxEntries other keys makes room).
  void Store(const std::string& key, int64_t version, std::shared_ptr<const std::string> body);

  static constexpr size_t kMaxEntries = 16;

 private:
  struct Entry {
    int64_t version = 0;
    std::shared_ptr<const std::string> body;
    mutable uint64_t used = 0;
  };
  mutable std::mutex mu_;
  mutable uint64_t tick_ = 0;
  std::map<std::string, Entry> entries_;
};

}  // namespace cuttle::api
