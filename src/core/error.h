// Error and Result: expected failures are values, never exceptions across module boundaries.
// Error is a small value type (code + one-line message, optionally the list of problems behind it);
// safe to copy between threads.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cuttle {

enum class ErrorCode {
  kInvalidArgument,   // bad input from a user: 400 / exit 2
  kNotFound,          // 404
  kAlreadyExists,     // 409
  kConflict,          // 409: a state that forbids the operation
  kUnauthenticated,   // 401
  kPermissionDenied,  // 403
  kTooLarge,          // 413
  kUnavailable,       // transient: database down, retry later (503)
  kLostOwnership,     // fencing: a conditional write matched no row
  kIo,                // file system
  kDatabase,          // a database error that is not transient
  kInternal,          // a bug
};

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Error InvalidArgument(std::string m) {
    return {ErrorCode::kInvalidArgument, std::move(m)};
  }
  static Error NotFound(std::string_view kind, std::string_view id) {
    return {ErrorCode::kNotFound, std::string(kind) + " '" + std::string(id) + "' was not found."};
  }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error Unauthenticated(std::string m) {
    return {ErrorCode::kUnauthenticated, std::move(m)};
  }
  static Error PermissionDenied(std::string m) {
    return {ErrorCode::kPermissionDenied, std::move(m)};
  }
  static Error TooLarge(std::string m) { return {ErrorCode::kTooLarge, std::move(m)}; }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error LostOwnership(std::string m) { return {ErrorCode::kLostOwnership, std::move(m)}; }
  static Error Io(std::string m) { return {ErrorCode::kIo, std::move(m)}; }
  static Error Database(std::string m) { return {ErrorCode::kDatabase, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  // A 400 listing every problem found in one request (the body binder's): `message` says what
  // was refused, `details` each field's problem, sent as Octopus's Errors[].
  static Error Invalid(std::string message, std::vector<std::string> details) {
    Error e(ErrorCode::kInvalidArgument, std::move(message));
    e.details_ = std::move(details);
    return e;
  }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<std::string>& details() const { return details_; }

  // Prefixes context: Error::Io("x").Wrap("reading config") -> "reading config: x".
  Error Wrap(std::string_view context) const {
    std::string wrapped(context);
    wrapped.append(": ").append(message_);
    Error e{code_, std::move(wrapped)};
    e.details_ = details_;
    return e;
  }

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<std::string> details_;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error from a function that returns Result<T>.
inline std::unexpected<Error> Fail(Error e) { return std::unexpected<Error>(std::move(e)); }

const char* ErrorCodeName(ErrorCode code);

// Whether an error is the server's own failure (kUnavailable, kLostOwnership, kIo, kDatabase,
// kInternal) rather than a verdict on the client's request.
bool IsServerFault(ErrorCode code);
// The message a client may be shown for `error`: its own message for a verdict on the request; for
// a server fault, whose message may name files, hosts and statements, a generic one carrying a
// reference to the log line where the whole error is written (the error is logged here).
std::string ClientMessage(const Error& error);

}  // namespace cuttle

// Propagates an error: CUTTLE_TRY(auto v, Parse(x)); or CUTTLE_TRY_VOID(Write(x));
#define CUTTLE_CONCAT_INNER(a, b) a##b
#define CUTTLE_CONCAT(a, b) CUTTLE_CONCAT_INNER(a, b)
#define CUTTLE_TRY_IMPL(tmp, decl, expr)                                     \
  auto tmp = (expr);                                                         \
  if (!tmp) return std::unexpected<::cuttle::Error>(std::move(tmp).error()); \
  decl = std::move(tmp).value()
#define CUTTLE_TRY(decl, expr) CUTTLE_TRY_IMPL(CUTTLE_CONCAT(try_tmp_, __LINE__), decl, expr)
#define CUTTLE_TRY_VOID(expr)                                                                    \
  do {                                                                                           \
    auto try_void_tmp = (expr);                                                                  \
    if (!try_void_tmp) return std::unexpected<::cuttle::Error>(std::move(try_void_tmp).error()); \
  } while (0)

// Asserts an invariant the program itself controls (never input from outside).
#define CUTTLE_CHECK(cond)                                         \
  do {                                                             \
    if (!(cond)) ::cuttle::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace cuttle {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
