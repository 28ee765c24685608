#include "cluster/scheduler.h"

#include <algorithm>
#include <functional>

#include "core/log.h"

namespace cuttle::cluster {

namespace {
// A stable 63-bit key per job name for the advisory lock (FNV-1a; std::hash is not stable across
// builds, and every node must agree).
int64_t LockKey(const std::string& name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : "cuttle-job:" + name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h & 0x7fffffffffffffffull);
}
}  // namespace

Scheduler::Scheduler(db::Database& db, core::Clock& clock, std::string node_name)
    : db_(db), clock_(clock), node_name_(std::move(node_name)) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Add(std::string name, std::chrono::milliseconds interval, Job job) {
  tick_ = std::min(tick_, std::max(std::chrono::milliseconds(20), interval / 2));
  jobs_.push_back({std::move(name), interval, std::move(job)});
}

void Scheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
}

Result<bool> Scheduler::TakeIfDue(const std::string& name, std::chrono::milliseconds interval) {
  bool due = false;
  CUTTLE_TRY(
      auto locked, db_.WithClusterLock(LockKey(name), [&](db::Transaction& tx) -> Result<void> {
        due = false;
        CUTTLE_TRY_VOID(
            tx.Execute("INSERT INTO scheduled_jobs (name, next_run) VALUES ($1, now_ms()) "
                       "ON CONFLICT (name) DO NOTHING",
                       {name}));
        CUTTLE_TRY(auto rs,
                   tx.Execute("UPDATE scheduled_jobs SET next_run = now_ms() + $2, last_run = "
                              "now_ms(), last_node = $3 WHERE name = $1 AND next_run <= "
                              "now_ms()",
                              {name, int64_t{interval.count()}, node_name_}));
        due = rs.affected > 0;
        return {};
      }));
  return locked && due;
}

std::vector<std::string> Scheduler::RunDue() {
  std::vector<std::string> ran;
  for (const auto& e : jobs_) {
    if (stopping_) break;
    auto due = TakeIfDue(e.name, e.interval);
    if (!due || !*due) continue;
    ran.push_back(e.name);
    if (auto r = e.job(); !r) {
      CUTTLE_LOG_WARN("scheduled job {} failed: {}", e.name, r.error().message());
    }
  }
  return ran;
}

void Scheduler::Loop() {
  while (!stopping_) {
    RunDue();
    clock_.SleepFor(tick_, [this] { return stopping_.load(); });
  }
}

}  // namespace cuttle::cluster
