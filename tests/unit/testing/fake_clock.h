// FakeClock: a core::Clock whose time moves only when a test calls Advance(). SleepFor returns as
// soon as another thread has advanced the time past the deadline (or the wake predicate holds), so
// code under test that waits can be driven without real sleeps. Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

#include "core/clock.h"

namespace cuttle::testing {

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(int64_t start_unix_millis = 1'800'000'000'000);

  core::TimePoint Now() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
  void SleepFor(core::Millis d, const std::function<bool()>& wake = {}) override;

  void Advance(core::Millis d);
  void Set(int64_t unix_millis);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  int64_t now_ms_;
  int64_t steady_ms_ = 0;
};

}  // namespace cuttle::testing
