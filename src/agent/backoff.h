// Back-off for failed requests (docs/agent.md): the first retry at once, then full jitter over an
// exponential ceiling from 250 ms doubling to 10 s; Reset() after a success. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>

namespace cuttle::agent {

class Backoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{250};
  static constexpr std::chrono::milliseconds kCap{10'000};

  // `uniform` returns a number in [0, 1); the default draws from a per-object random engine.
  explicit Backoff(std::function<double()> uniform = {});

  // The wait before the next retry, counting one more failure.
  std::chrono::milliseconds Next();
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }
  // The ceiling of the draw after `failures` failures (0 for the first).
  static std::chrono::milliseconds Ceiling(int failures);

 private:
  std::function<double()> uniform_;
  int failures_ = 0;
};

}  // namespace cuttle::agent
