#include "db/internal/retry.h"

#include <algorithm>

#include "core/log.h"

namespace cuttle::db::internal {

namespace {
constexpr std::chrono::milliseconds kFirstDelay{50};
constexpr std::chrono::milliseconds kMaxDelay{1000};
}  // namespace

std::chrono::milliseconds BackoffDelay(int attempt) {
  auto delay = kFirstDelay;
  for (int i = 1; i < attempt && delay < kMaxDelay; ++i) {
    delay *= 2;
  }
  return std::min(delay, kMaxDelay);
}

void LogRetry(std::string_view op, int attempt, const Error& error,
              std::chrono::milliseconds delay) {
  CUTTLE_LOG_WARN("{} attempt #{} failed: {}, retrying in {}ms", op, attempt, error.message(),
                  delay.count());
}

}  // namespace cuttle::db::internal
