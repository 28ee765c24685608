// Clock: the one source of time for code that waits or measures. Production uses SystemClock;
// tests use testing::FakeClock, whose Advance() fires due timers. Implementations are
// thread-safe.
//
// Liveness (node heartbeats, task leases) never uses this clock: it uses the database clock, so
// that nodes with skewed clocks agree. This clock drives local timers and measurements.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace cuttle::core {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Millis>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the Unix epoch.
  virtual TimePoint Now() const = 0;
  // Monotonic time for measuring intervals.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
  // Blocks the calling thread for `d` or until `wake()` returns true (checked at least at the
  // end). FakeClock returns as soon as the fake time has advanced past the deadline.
  virtual void SleepFor(Millis d, const std::function<bool()>& wake = {}) = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
  void SleepFor(Millis d, const std::function<bool()>& wake = {}) override;
  static SystemClock& Instance();
};

int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(int64_t ms);

}  // namespace cuttle::core
