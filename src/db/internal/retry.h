// Retrying transient database failures with capped exponential backoff. Internal to the db module.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "core/error.h"

namespace cuttle::db::internal {

// The pause after failed attempt number `attempt` (1-based): 50 ms, doubling, capped at 1 s.
std::chrono::milliseconds BackoffDelay(int attempt);

// Logs one warning for a retry: "<op> attempt #n failed: <message>, retrying in Xms".
void LogRetry(std::string_view op, int attempt, const Error& error,
              std::chrono::milliseconds delay);

// Calls `attempt` (returning Result<T>) until it succeeds, fails with something other than
// kUnavailable, or `budget` would be exceeded by the next pause; then returns kUnavailable.
template <class F>
auto RetryTransient(std::string_view op, std::chrono::milliseconds budget, F&& attempt)
    -> decltype(attempt()) {
  const auto start = std::chrono::steady_clock::now();
  for (int n = 1;; ++n) {
    auto result = attempt();
    if (result || result.error().code() != ErrorCode::kUnavailable) {
      return result;
    }
    const auto delay = BackoffDelay(n);
    if (std::chrono::steady_clock::now() - start + delay > budget) {
      return Fail(Error::Unavailable(std::string(op) + " failed after " + std::to_string(n) +
                                     " attempt(s): " + result.error().message()));
    }
    LogRetry(op, n, result.error(), delay);
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace cuttle::db::internal
