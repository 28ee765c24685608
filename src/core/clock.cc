#include "core/clock.h"

#include <thread>

namespace cuttle::core {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point SystemClock::SteadyNow() const {
  return std::chrono::steady_clock::now();
}

void SystemClock::SleepFor(Millis d, const std::function<bool()>& wake) {
  if (!wake) {
    std::this_thread::sleep_for(d);
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + d;
  while (!wake()) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, Millis(10)));
  }
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

}  // namespace cuttle::core
