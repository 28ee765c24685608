#include "cluster/node_registry.h"

#include <algorithm>

#include "core/log.h"

namespace cuttle::cluster {

NodeRegistry::NodeRegistry(db::Database& db, core::Clock& clock, RegistryOptions options)
    : db_(db),
      clock_(clock),
      options_(std::move(options)),
      node_id_(repo::NodeId(options_.node_name)) {}

NodeRegistry::~NodeRegistry() { Stop(); }

Result<void> NodeRegistry::Start() {
  CUTTLE_TRY(auto row, repo::UpsertNode(db_, options_.node_name, options_.initial_task_cap,
                                        options_.version, options_.schema_version));
  {
    std::lock_guard lock(mu_);
    row_ = row;
    last_ok_ = clock_.SteadyNow();
    started_ = true;
  }
  if (options_.heartbeat_thread) thread_ = std::thread([this] { Loop(); });
  return {};
}

void NodeRegistry::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  bool started;
  {
    std::lock_guard lock(mu_);
    started = started_;
  }
  if (started) {
    if (auto r = repo::MarkOffline(db_, node_id_); !r) {
      CUTTLE_LOG_WARN("could not mark node offline: {}", r.error().message());
    }
  }
}

repo::NodeRow NodeRegistry::row() const {
  std::lock_guard lock(mu_);
  return row_;
}

int64_t NodeRegistry::MillisSinceLastHeartbeat() const {
  std::lock_guard lock(mu_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.SteadyNow() - last_ok_)
      .count();
}

bool NodeRegistry::fenced() const {
  return MillisSinceLastHeartbeat() > options_.node_timeout_ms / 2;
}

int64_t NodeRegistry::fence_generation() const {
  std::lock_guard lock(mu_);
  return fence_generation_;
}

bool NodeRegistry::healthy() const {
  {
    std::lock_guard lock(mu_);
    if (failed_attempts_ > 0) return false;
  }
  return !fenced();
}

std::chrono::milliseconds NodeRegistry::RetryDelay() const {
  return std::min(std::chrono::milliseconds(options_.heartbeat_ms), kHeartbeatRetry);
}

bool NodeRegistry::offline() const { return MillisSinceLastHeartbeat() > options_.node_timeout_ms; }

Result<void> NodeRegistry::HeartbeatOnce() {
  auto beat = repo::Heartbeat(db_, node_id_);
  if (beat && !beat->has_value()) {
    CUTTLE_LOG_WARN("node row {} was deleted; re-inserting it", node_id_);
    auto row = repo::UpsertNode(db_, options_.node_name, options_.initial_task_cap,
                                options_.version, options_.schema_version);
    if (!row) return Fail(row.error());
    beat = std::optional<repo::NodeRow>(*row);
  }
  std::lock_guard lock(mu_);
  auto now = clock_.SteadyNow();
  const auto since_ok =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ok_).count();
  if (!beat) {
    ++failed_attempts_;
    // Every attempt while an outage is young, then one in 50: each says how long the node has
    // gone without a heartbeat, against the fence at half the node timeout.
    if (failed_attempts_ <= 10 || failed_attempts_ % 50 == 0) {
      CUTTLE_LOG_WARN(
          "heartbeat attempt #{} failed, {} ms since the last one that succeeded "
          "(fenced after {} ms): {}; retrying in {} ms",
          failed_attempts_, since_ok, options_.node_timeout_ms / 2, beat.error().message(),
          RetryDelay().count());
    }
    return Fail(beat.error());
  }
  if (failed_attempts_ > 0) {
    CUTTLE_LOG_WARN("heartbeat recovered after {} failed attempt(s), {} ms since the last one",
                    failed_attempts_, since_ok);
    failed_attempts_ = 0;
  }
  row_ = **beat;
  if (now - last_ok_ > std::chrono::milliseconds(options_.node_timeout_ms / 2)) {
    ++fence_generation_;
    CUTTLE_LOG_WARN("heartbeat resumed after {} ms: work started before is fenced",
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ok_).count());
  }
  last_ok_ = now;
  return {};
}

void NodeRegistry::Loop() {
  auto pause = std::chrono::milliseconds(options_.heartbeat_ms);
  while (!stopping_.load()) {
    clock_.SleepFor(pause, [this] { return stopping_.load(); });
    if (stopping_.load()) break;
    pause = HeartbeatOnce() ? std::chrono::milliseconds(options_.heartbeat_ms) : RetryDelay();
  }
}

}  // namespace cuttle::cluster
