#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace cuttle {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kUnauthenticated:
      return "Unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kTooLarge:
      return "TooLarge";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kLostOwnership:
      return "LostOwnership";
    case ErrorCode::kIo:
      return "Io";
    case ErrorCode::kDatabase:
      return "Database";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "CHECK failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}

}  // namespace cuttle
