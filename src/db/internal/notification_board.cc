#include "db/internal/notification_board.h"

namespace cuttle::db::internal {

void NotificationBoard::Bump(std::string_view channel) {
  {
    std::lock_guard lock(mu_);
    auto it = counters_.find(channel);
    if (it == counters_.end()) {
      it = counters_.emplace(std::string(channel), 0).first;
    }
    ++it->second;
  }
  cv_.notify_all();
}

void NotificationBoard::BumpAll() {
  {
    std::lock_guard lock(mu_);
    ++all_counter_;
  }
  cv_.notify_all();
}

bool NotificationBoard::Wait(std::string_view channel, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto it = counters_.find(channel);
  if (it == counters_.end()) {
    it = counters_.emplace(std::string(channel), 0).first;
  }
  // Map nodes are stable, so the reference stays valid while other channels are added.
  const uint64_t& counter = it->second;
  const uint64_t start = counter;
  const uint64_t start_all = all_counter_;
  return cv_.wait_for(lock, timeout, [&] { return counter != start || all_counter_ != start_all; });
}

}  // namespace cuttle::db::internal
