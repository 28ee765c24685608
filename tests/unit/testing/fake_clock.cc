#include "testing/fake_clock.h"

namespace cuttle::testing {

FakeClock::FakeClock(int64_t start_unix_millis) : now_ms_(start_unix_millis) {}

core::TimePoint FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return core::FromUnixMillis(now_ms_);
}

std::chrono::steady_clock::time_point FakeClock::SteadyNow() const {
  std::lock_guard lock(mu_);
  return std::chrono::steady_clock::time_point(core::Millis(steady_ms_));
}

void FakeClock::SleepFor(core::Millis d, const std::function<bool()>& wake) {
  std::unique_lock lock(mu_);
  int64_t deadline = steady_ms_ + d.count();
  // Poll the wake predicate outside the lock in short real-time slices: it may take other locks.
  while (steady_ms_ < deadline) {
    if (wake) {
      lock.unlock();
      bool done = wake();
      lock.lock();
      if (done) return;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(5));
  }
}

void FakeClock::Advance(core::Millis d) {
  {
    std::lock_guard lock(mu_);
    now_ms_ += d.count();
    steady_ms_ += d.count();
  }
  cv_.notify_all();
}

void FakeClock::Set(int64_t unix_millis) {
  {
    std::lock_guard lock(mu_);
    now_ms_ = unix_millis;
  }
  cv_.notify_all();
}

}  // namespace cuttle::testing
