// NotificationBoard: per-channel wake-up counters that WaitForNotification blocks on. A backend
// bumps a channel when a notification arrives; a waiter returns true once the channel's counter
// has moved since that thread last waited on the channel, so one notification wakes every waiter
// of that channel, and a hint that arrives while a thread is busy (between two waits) is not lost:
// its next wait returns at once. Thread-safe.
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
  // Waits up to `timeout` for a Bump of `channel`; true if one happened since the calling thread's
  // previous Wait on this board and channel (its first Wait counts only Bumps while it waits).
  bool Wait(std::string_view channel, std::chrono::milliseconds timeout);

 private:
  // One condition variable per channel, so a hint wakes only that channel's waiters: with one
  // shared variable every waiter (the task dispatcher, the cancel watcher...) woke on every hint
  // and the one that mattered queued behind the others for the mutex.
  struct Channel {
    uint64_t counter = 0;
    std::condition_variable cv;
  };
  Channel& Find(std::string_view channel);  // under mu_

  std::mutex mu_;
  // State below is protected by mu_. Map nodes are stable, so references stay valid.
  std::map<std::string, Channel, std::less<>> channels_;
  uint64_t all_counter_ = 0;
};

}  // namespace cuttle::db::internal
