#include "db/internal/notification_board.h"

#include <tuple>

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
  // What this thread saw of each (board, channel) when its last Wait returned. A board address
  // reused after destruction can at worst cause one spurious `true`, which callers treat as "go
  // and check".
  struct Seen {
    uint64_t counter;
    uint64_t all;
  };
  thread_local std::map<std::tuple<const NotificationBoard*, std::string>, Seen> seen;

  std::unique_lock lock(mu_);
  Channel& c = Find(channel);
  auto it =
      seen.try_emplace(std::tuple(this, std::string(channel)), Seen{c.counter, all_counter_}).first;
  Seen& last = it->second;
  bool moved = c.cv.wait_for(lock, timeout,
                             [&] { return c.counter != last.counter || all_counter_ != last.all; });
  last = Seen{c.counter, all_counter_};
  return moved;
}

}  // namespace cuttle::db::internal
