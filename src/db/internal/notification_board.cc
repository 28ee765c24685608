#include "db/internal/notification_board.h"

namespace cuttle::db::internal {

NotificationBoard::Channel& NotificationBoard::Find(std::string_view channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    it = channels_.try_emplace(std::string(channel)).first;
  }
  return it->second;
}

void NotificationBoard::Bump(std::string_view channel) {
  std::unique_lock lock(mu_);
  Channel& c = Find(channel);
  ++c.counter;
  lock.unlock();  // channels are never removed, so `c` outlives the lock
  c.cv.notify_all();
}

void NotificationBoard::BumpAll() {
  std::lock_guard lock(mu_);
  ++all_counter_;
  for (auto& [name, c] : channels_) {
    c.cv.notify_all();
  }
}

bool NotificationBoard::Wait(std::string_view channel, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  Channel& c = Find(channel);
  const uint64_t start = c.counter;
  const uint64_t start_all = all_counter_;
  return c.cv.wait_for(lock, timeout,
                       [&] { return c.counter != start || all_counter_ != start_all; });
}

}  // namespace cuttle::db::internal
