// The HTTP layer: request/response values, a route table and a Boost.Beast server on C++20
// coroutines. Nothing here knows about Cuttle's domain; src/api/ registers the routes.
//
// Thread-safety: Router is built before Server::Start and read-only afterwards. Handlers and
// admissions run on the server's handler pool and may block (database calls); stream_body handlers
// run on a bounded pool of their own; probe handlers run on the I/O threads and must not block.
// A handler that must wait for something (a long poll) returns Response::Later and answers
// through the Deferred from any thread, so the wait holds no thread at all.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace cuttle::http {

// Case-insensitive ordering for header and query names.
struct LessIgnoreCase {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

// Pulls the next bytes of a streamed request body into `buf` (at most `n`, n > 0); returns 0 at
// the end of the body. Errors: kIo when the client goes away or the body is malformed, kUnavailable
// when no byte arrives within ServerOptions::stream_idle_timeout, kTooLarge over the route's
// max_body_bytes. Valid only during the handler call, on the handler's thread.
using BodyReader = std::function<Result<size_t>(char* buf, size_t n)>;

struct Request {
  std::string method;     // "GET", "POST", ... as sent
  std::string target;     // raw request target, e.g. "/api/tasks?skip=0"
  std::string path;       // percent-decoded path without the query
  std::string raw_query;  // everything after '?', undecoded
  std::map<std::string, std::string, LessIgnoreCase> query;    // decoded; first value wins
  std::map<std::string, std::string, LessIgnoreCase> headers;  // repeated headers joined by ", "
  std::map<std::string, std::string> params;                   // route captures, e.g. {"id": ...}
  std::string body;                                            // buffered routes
  BodyReader body_reader;  // stream_body routes (a body-less request reads 0 at once)
  unsigned version = 11;   // 10 or 11
  std::string remote_address;
  // What the route's admission learnt about the caller (e.g. the authenticated user), so the
  // handler does not look it up again. Empty on routes without an admission.
  std::any principal;

  std::optional<std::string> Header(std::string_view name) const;
  std::optional<std::string> Query(std::string_view name) const;
  const std::string& Param(const std::string& name) const;  // empty if absent
};

// Fills path (percent-decoded), raw_query and query (decoded, first value wins) from target;
// accepts the absolute form ("http://host/path?q") too. Never fails: undecodable bytes pass
// through.
void ParseTarget(Request& req);

// True when an If-None-Match header value lists `etag` (compared weakly: "W/" is ignored) or is
// "*": the client's copy is current and a 304 answers it.
bool IfNoneMatch(std::string_view header, std::string_view etag);

// A response file body streamed from disk (downloads); `length` bytes from `offset`.
struct FileBody {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class Deferred;

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  // When set, sent instead of `body` without a copy: a large body kept by a cache and shared by
  // the responses that send it.
  std::shared_ptr<const std::string> shared_body;
  std::optional<FileBody> file;  // when set, `body` and `shared_body` are ignored
  // When set, everything else is ignored: the answer is what `later` is completed with.
  std::shared_ptr<Deferred> later;

  static Response Json(int status, const nlohmann::json& body);
  static Response Text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  // Octopus's error shape: {"ErrorMessage": message, "Errors": [details...]}.
  static Response Error(int status, std::string_view message,
                        std::vector<std::string> details = {});
  // Maps an Error to its HTTP status (the one place that does): InvalidArgument 400,
  // Unauthenticated 401, PermissionDenied 403, NotFound 404, AlreadyExists/Conflict 409,
  // TooLarge 413, Unavailable 503, everything else 500. A 5xx is logged in full and answered
  // with a generic message and a reference into the log: its text may name server files.
  static Response FromError(const cuttle::Error& error);
  static int StatusFor(cuttle::ErrorCode code);

  // The answer comes later, through `deferred` (see Deferred).
  static Response Later(std::shared_ptr<Deferred> deferred);

  Response& SetHeader(std::string name, std::string value);
};

// A response given after the handler has returned (a long poll): the handler keeps the Deferred,
// returns Response::Later(it) and frees its thread; whoever has the answer calls Complete from
// any thread. The connection waits for it without a thread. The first Complete wins; later calls
// are ignored. Should nobody complete it within ServerOptions::deferred_timeout, or the server
// shut down first, the server completes it itself: 503 with "Retry-After: 1".
//
// Thread-safe.
class Deferred {
 public:
  // True when this call gave the answer; false when the request was answered already.
  bool Complete(Response response);
  bool done() const;

  // The server's side (not for handlers). Watch registers `wake`, called once, on the thread
  // that completes, after the response is stored; it returns false, and never calls `wake`, when
  // the response is there already. Take moves the response out (once done()).
  bool Watch(std::function<void()> wake);
  Response Take();

 private:
  mutable std::mutex mu_;
  // State below is protected by mu_.
  std::optional<Response> response_;
  bool taken_ = false;
  std::function<void()> wake_;
};

using Handler = std::function<Response(Request&)>;

// A route's admission: decides from the request line and headers alone, before a byte of the body
// is read or buffered, whether the request may go on to its handler. A response refuses it (401,
// 403...); nullopt lets it through, with what it learnt left in Request::principal. This is where
// a route's access rule is checked, so a caller without a key never makes the node hold a body.
using Admission = std::function<std::optional<Response>(Request&)>;

// Routes are matched on path segments, case-insensitively for literal segments; "{name}" captures
// one segment into Request::params. Literal segments win over captures at the same position, so
// "/api/octopusservernodes/ping" is preferred to "/api/octopusservernodes/{id}". A last segment
// "{*name}" captures the rest of the path, zero or more segments joined by '/' (static files); a
// route of fixed length wins over it. A path that
// matches but with another method is 405; no match is 404 (both Octopus-shaped JSON errors).
class Router {
 public:
  struct Options {
    // Largest request body this route accepts (buffered in memory); larger is 413. On a
    // stream_body route it is optional (unset: unlimited, the handler enforces its own limit).
    std::optional<uint64_t> max_body_bytes;
    // The handler is called after the header and pulls the body itself through
    // Request::body_reader, so a multi-gigabyte upload never sits in memory. The read holds at
    // most one socket buffer (64 KiB) beyond the caller's own buffer. A body the handler leaves
    // unread closes the connection after the response.
    bool stream_body;  // no initializer: GCC rejects "Options options = {}" below with one
    // Called after the header and before the body (see Admission); unset: everyone may call.
    Admission admit;
    // A health probe (the load balancer's ping): answered from memory on the I/O thread, never
    // queued behind other handlers and served even past ServerOptions::max_connections. Its
    // handler must not block.
    bool probe;
  };

  void Add(std::string method, std::string pattern, Handler handler, Options options = {});

  struct Match {
    const Handler* handler = nullptr;  // null: see status
    int status = 404;                  // 404 or 405 when handler is null
    std::map<std::string, std::string> params;
    Options options{};
  };
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Entry {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    Options options{};
  };
  std::vector<Entry> routes_;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port (tests)
  int threads = 8;       // I/O threads: they only move bytes, handlers run on the pools below
  // Threads running ordinary handlers and admissions (which may block on the database). Requests
  // beyond them queue; their bodies are bounded by max_buffered_bytes.
  int handler_threads = 16;
  // stream_body handlers running at once, each on a thread of its own pool (an upload blocks its
  // thread while the client sends). Past it: 503 with Retry-After.
  int max_streams = 64;
  // Open connections. Past it, the connection waiting longest for a request header (idle
  // keep-alive or slowloris) is closed to make room; if every connection is busy, the newcomer
  // may still send one request: a probe route is answered, anything else gets 503 + Retry-After.
  size_t max_connections = 10000;
  // Bytes of buffered request bodies held across all requests. A body is counted from its
  // Content-Length (a chunked body as its route's limit) before it is read; past it: 503 with
  // Retry-After, and the body is not read.
  uint64_t max_buffered_bytes = 64ULL * 1024 * 1024;
  std::string node_name;  // sent as "Octopus-Node" on every response and used in the request log
  size_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 10 * 1024 * 1024;  // default for routes without their own limit
  // The whole header must arrive within this time, however slowly it trickles (slowloris).
  std::chrono::milliseconds header_timeout{10000};
  // A buffered body must arrive within this time.
  std::chrono::milliseconds body_timeout{60000};
  // A streamed body (Router::Options::stream_body) has no overall deadline, since a multi-GB
  // upload may take hours; instead each read must receive a byte within this time.
  std::chrono::milliseconds stream_idle_timeout{60000};
  // An idle keep-alive connection is closed after this time.
  std::chrono::milliseconds idle_timeout{60000};
  // A deferred response (Response::Later) nobody completed within this time is answered 503.
  std::chrono::milliseconds deferred_timeout{120000};
  bool log_requests = true;
};

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const Router> router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on background threads. Fails with a message naming the address and
  // the OS error (e.g. "127.0.0.1:8080: Address already in use").
  Result<void> Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Stops accepting, answers the deferred responses still outstanding (503 with "Retry-After: 1":
  // the client goes to another node), lets in-flight requests finish for at most `grace`, closes
  // idle keep-alive connections, then closes everything and joins the threads. Idempotent; callable
  // from any thread (e.g. a signal-handling thread) except the server's own handlers.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cuttle::http
