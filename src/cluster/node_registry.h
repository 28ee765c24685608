// NodeRegistry: this node's membership of the cluster (DESIGN.md §3.1). It upserts the node row at
// start, heartbeats every heartbeat_ms on its own thread (never starved by other work), re-inserts
// the row if someone deleted it, and marks the node offline on a clean stop. A heartbeat is one
// attempt; after a failed one the next follows within kHeartbeatRetry (not heartbeat_ms, and not
// the database's back-off of up to a second), so the node knows within that time that the
// database is back after an outage or a failover.
//
// It also answers two questions other components ask many times a second without touching the
// database: the last known state of this node's row (ping, task claiming) and whether this node
// must fence itself because it has not heartbeat for more than half the node timeout.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/error.h"
#include "db/database.h"
#include "repo/nodes.h"

namespace cuttle::cluster {

struct RegistryOptions {
  std::string node_name;
  std::string version;
  int schema_version = 0;
  int initial_task_cap = 5;
  int heartbeat_ms = 1000;
  int node_timeout_ms = 5000;
  // Tests that drive HeartbeatOnce() with a fake clock turn the thread off.
  bool heartbeat_thread = true;
};

class NodeRegistry {
 public:
  NodeRegistry(db::Database& db, core::Clock& clock, RegistryOptions options);
  ~NodeRegistry();

  // Upserts the row (failing if the database cannot be reached) and starts heartbeating.
  Result<void> Start();
  // Stops heartbeating and marks the node offline at once. Idempotent.
  void Stop();

  // The node row as of the last successful heartbeat.
  repo::NodeRow row() const;
  const std::string& node_id() const { return node_id_; }
  const RegistryOptions& options() const { return options_; }

  // True when the last successful heartbeat is older than half the node timeout: another node may
  // soon consider this one dead and take over its work, so this node must stop writing results.
  bool fenced() const;
  // True when the last heartbeat attempt succeeded and the node is not fenced: the node may take
  // new work. False from the first failed attempt until the next one that succeeds, so that a
  // node does not claim tasks through an outage it is about to be fenced for, nor start tasks a
  // claim brought back from the database once that outage was over but before its heartbeat was.
  bool healthy() const;
  // True when the last successful heartbeat is older than the node timeout.
  bool offline() const;
  // Incremented whenever a heartbeat succeeds after the node had been fenced (a gap longer than
  // half the timeout, e.g. the process was stopped). Work begun in an earlier generation must be
  // re-checked against the database before it writes anything more.
  int64_t fence_generation() const;
  bool stopping() const { return stopping_.load(); }

  // Runs one heartbeat now (the thread calls this; tests drive it directly with a fake clock).
  Result<void> HeartbeatOnce();
  // The pause after a failed heartbeat: heartbeat_ms, at most kHeartbeatRetry.
  std::chrono::milliseconds RetryDelay() const;
  static constexpr std::chrono::milliseconds kHeartbeatRetry{100};

 private:
  void Loop();
  int64_t MillisSinceLastHeartbeat() const;

  db::Database& db_;
  core::Clock& clock_;
  const RegistryOptions options_;
  const std::string node_id_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable std::mutex mu_;
  // State below is protected by mu_.
  repo::NodeRow row_;
  std::chrono::steady_clock::time_point last_ok_;
  bool started_ = false;
  int failed_attempts_ = 0;  // heartbeat attempts failed since the last one that succeeded
  int64_t fence_generation_ = 0;
};

}  // namespace cuttle::cluster
