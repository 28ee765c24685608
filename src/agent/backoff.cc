#include "agent/backoff.h"

#include <algorithm>
#include <memory>
#include <random>

namespace cuttle::agent {

Backoff::Backoff(std::function<double()> uniform) : uniform_(std::move(uniform)) {
  if (!uniform_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    uniform_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
}

std::chrono::milliseconds Backoff::Ceiling(int failures) {
  if (failures <= 1) return std::chrono::milliseconds(0);
  const int doublings = std::min(failures - 2, 16);
  return std::min(kCap, kFirst * (int64_t{1} << doublings));
}

std::chrono::milliseconds Backoff::Next() {
  ++failures_;
  const auto ceiling = Ceiling(failures_);
  const double u = std::clamp(uniform_(), 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(u * static_cast<double>(ceiling.count())));
}

}  // namespace cuttle::agent
