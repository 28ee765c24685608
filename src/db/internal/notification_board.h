// NotificationBoard: per-channel wake-up counters that WaitForNotification blocks on. A backend
// bumps a channel when a notification arrives; a waiter returns true once the channel's counter
// has moved since it started waiting, so one notification wakes every waiter of that channel.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace cuttle::db::internal {

class NotificationBoard {
 public:
  void Bump(std::string_view channel);
  // Wakes every waiter (after a LISTEN connection was lost, hints may have been missed).
  void BumpAll();
  // Waits up to `timeout` for a Bump of `channel`; true if one happened.
  bool Wait(std::string_view channel, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  std::map<std::string, uint64_t, std::less<>> counters_;
  uint64_t all_counter_ = 0;
};

}  // namespace cuttle::db::internal
