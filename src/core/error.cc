#include "core/error.h"

#include <cstdio>
#include <cstdlib>

#include "core/ids.h"
#include "core/log.h"

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

bool IsServerFault(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kLostOwnership:
    case ErrorCode::kIo:
    case ErrorCode::kDatabase:
    case ErrorCode::kInternal:
      return true;
    default:
      return false;
  }
}

std::string ClientMessage(const Error& error) {
  if (!IsServerFault(error.code())) return error.message();
  const std::string reference = core::NewUuid().substr(0, 8);
  CUTTLE_LOG_ERROR("{} error, reference {}: {}", ErrorCodeName(error.code()), reference,
                   error.message());
  if (error.code() == ErrorCode::kUnavailable) {
    return "The server is temporarily unavailable; try again shortly (reference " + reference +
           " in the server's log).";
  }
  return "The server could not complete the request (reference " + reference +
         " in the server's log).";
}

void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "CHECK failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}

}  // namespace cuttle
