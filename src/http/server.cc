// Server: one coroutine per connection on an io_context run by `threads` I/O threads. Each
// connection lives on its own strand, so Shutdown (from any thread) reaches it only through
// asio::post. The I/O threads only move bytes: admissions and handlers run on `handler_threads`
// (they may block on the database) and stream_body handlers on a bounded pool of their own (they
// block while the client uploads), so neither slow clients nor slow queries stop the node from
// answering its load balancer's ping, which is a probe route served on the I/O thread itself.
//
// Holding a node down with few resources is refused at each step, before the step's cost is paid:
// connections are capped (the longest-waiting header is shed first); the route's admission checks
// the key from the header before any body byte is read; a buffered body is counted against a
// node-wide byte budget from its Content-Length before it is read; uploads are capped by their
// pool. Each refusal is 503 + Retry-After (or the admission's 401/403). docs/design-notes.md has
// the reasoning.

// Boost 1.74: <utility> must precede Asio's awaitable header.
// clang-format off
#include <utility>
// clang-format on

#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "core/strings.h"
#include "http/compress.h"
#include "http/http.h"

namespace cuttle::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 8 * 1024;
constexpr size_t kFileChunk = 256 * 1024;
// One sendfile call at most; the kernel moves it in socket-buffer-sized steps anyway.
constexpr uint64_t kSendfileChunk = 16 * 1024 * 1024;
// After refusing a request whose body was not read, the rest of it is drained for a while before
// closing: closing with unread data makes the kernel send RST, and the client may then lose our
// response (e.g. the 413) while it is still uploading. Draining costs no memory, so the byte cap
// is well above the bodies a client commonly sends before it reads our answer (CI saw a 9 MiB
// upload lose its 413 with a 4 MiB cap); the time cap bounds what a hostile client can hold.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr uint64_t kLingerBytes = 256 * 1024 * 1024;
// Past max_connections with nothing to shed, this many more connections may each send one request
// (a probe is answered, anything else gets 503), within a short header deadline; beyond them a
// connection is closed as soon as it is accepted. They keep the ping answering during a flood.
constexpr size_t kOverflowConnections = 64;
constexpr auto kOverflowHeaderTimeout = std::chrono::seconds(2);
// What a refused client is told to wait before trying again.
constexpr int kRetryAfterSeconds = 1;

// Boost 1.74's beast::string_view is boost::string_view, which std::string_view does not accept.
std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }

auto Await(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

asio::awaitable<void> SendContinue(beast::tcp_stream& stream, beast::error_code& ec) {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  co_await asio::async_write(stream, asio::buffer(kContinue), Await(ec));
}

// Logs an exception that escaped a coroutine; nothing may escape into io_context::run.
void OnCoroutineDone(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    CUTTLE_LOG_ERROR("http: connection failed: {}", ex.what());
  } catch (...) {
    CUTTLE_LOG_ERROR("http: connection failed: unknown exception");
  }
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

struct Connection {
  Connection(tcp::socket socket, bool overflow)
      : stream(std::move(socket)), overflow(overflow), waiting_since(SteadyNanos()) {}
  beast::tcp_stream stream;
  // Accepted past max_connections: serves one request, and only a probe route.
  const bool overflow;
  // When the connection began waiting for a request header (idle keep-alive, or a header still
  // arriving); 0 while a request is handled. Written on the strand, read by the acceptor, which
  // sheds the longest-waiting connection when the node is full.
  std::atomic<int64_t> waiting_since;
  std::atomic<bool> shed{false};  // chosen to be closed to make room, close not yet done
  // State below is only touched on the connection's strand.
  bool idle = false;        // waiting for the first byte of the next request
  bool in_handler = false;  // a pool thread runs the handler and may be reading the socket
};

// A count of something scarce (bytes, slots) that requests take before they use it and give back
// after. Thread-safe.
class Quota {
 public:
  explicit Quota(uint64_t limit) : limit_(limit) {}
  bool TryTake(uint64_t n) {
    uint64_t used = used_.load();
    do {
      if (n > limit_ || used > limit_ - n) {
        return false;
      }
    } while (!used_.compare_exchange_weak(used, used + n));
    return true;
  }
  void Give(uint64_t n) { used_ -= n; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

// Gives back what a request took from a Quota when it goes out of scope.
class Held {
 public:
  Held(Quota& quota, uint64_t n) : quota_(&quota), n_(n) {}
  ~Held() { quota_->Give(n_); }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;

 private:
  Quota* quota_;
  uint64_t n_;
};

// 503 with Retry-After, in Octopus's error shape.
Response Busy(std::string_view message) {
  Response r = Response::Error(503, message);
  r.SetHeader("Retry-After", std::to_string(kRetryAfterSeconds));
  return r;
}

// Runs `fn` on `pool` and resumes the calling coroutine on its own executor with the result. The
// caller's frame stays suspended meanwhile, so `fn` may refer to it.
template <class T, class Fn>
asio::awaitable<T> OnPool(asio::thread_pool& pool, Fn fn) {
  return asio::co_spawn(
      pool, [fn = std::move(fn)]() mutable -> asio::awaitable<T> { co_return fn(); },
      asio::use_awaitable);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Header names the server writes itself; a handler's copies are dropped.
bool IsReservedHeader(std::string_view name) {
  return core::EqualsIgnoreCase(name, "Content-Length") ||
         core::EqualsIgnoreCase(name, "Transfer-Encoding") ||
         core::EqualsIgnoreCase(name, "Connection") || core::EqualsIgnoreCase(name, "Keep-Alive") ||
         core::EqualsIgnoreCase(name, "Server") || core::EqualsIgnoreCase(name, "Octopus-Node");
}

// Appends a header value with CR and LF removed (no response splitting through handler data).
void AppendSanitized(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c != '\r' && c != '\n') {
      out += c;
    }
  }
}

void AppendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  out.append(buf, end);
}

// A blocking view of the connection's socket for handlers that stream a request body: Beast's
// synchronous parser reads through it. Each read waits at most `timeout` for a byte (poll), which
// gives a streamed body an inactivity deadline instead of an overall one. The socket may be in
// non-blocking mode (Asio sets it), hence poll before recv.
class BlockingSocket {
 public:
  BlockingSocket(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    ec = {};
    auto it = asio::buffer_sequence_begin(buffers);
    auto end = asio::buffer_sequence_end(buffers);
    for (; it != end && asio::buffer_size(*it) == 0; ++it) {
    }
    if (it == end) {
      return 0;
    }
    asio::mutable_buffer buf = *it;
    for (;;) {
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      int ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (ready == 0) {
        ec = asio::error::timed_out;
        return 0;
      }
      ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) {
        return static_cast<size_t>(n);
      }
      if (n == 0) {
        ec = asio::error::eof;
        return 0;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        continue;
      }
      ec = beast::error_code(errno, beast::system_category());
      return 0;
    }
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) {
      throw beast::system_error(ec);
    }
    return n;
  }

 private:
  int fd_;
  std::chrono::milliseconds timeout_;
};

// Pulls a streamed body into the caller's buffer. A body with a Content-Length is received
// straight into that buffer (after the bytes that came with the header), without Beast's extra
// copy; a chunked body goes through Beast's parser (buffer_body). Either way only the
// connection's read buffer is held beyond what the caller asked for.
class StreamedBody {
 public:
  StreamedBody(bhttp::request_parser<bhttp::buffer_body>& parser, beast::flat_buffer& buffer,
               BlockingSocket socket, std::optional<uint64_t> limit)
      : parser_(parser), buffer_(buffer), socket_(socket) {
    if (!parser_.chunked() && parser_.content_length()) {
      remaining_ = *parser_.content_length();
    }
    (void)limit;  // a Content-Length over the limit was refused before the handler ran
  }

  bool done() const { return remaining_ ? *remaining_ == 0 : parser_.is_done(); }

  Result<size_t> Read(char* out, size_t n) {
    if (error_) {
      return Fail(*error_);
    }
    if (n == 0 || done()) {
      return 0;
    }
    if (remaining_) {
      return ReadDirect(out, n);
    }
    auto& body = parser_.get().body();
    body.data = out;
    body.size = n;
    body.more = true;
    beast::error_code ec;
    bhttp::read(socket_, buffer_, parser_, ec);
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    return Got(n - body.size, ec);
  }

 private:
  Result<size_t> ReadDirect(char* out, size_t n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, *remaining_));
    size_t got = 0;
    beast::error_code ec;
    if (buffer_.size() > 0) {  // bytes that arrived with the header (or before)
      got = std::min(want, buffer_.size());
      std::memcpy(out, buffer_.data().data(), got);
      buffer_.consume(got);
    } else {
      got = socket_.read_some(asio::buffer(out, want), ec);
    }
    *remaining_ -= got;
    if (ec == asio::error::eof) {
      ec = bhttp::error::partial_message;
    }
    return Got(got, ec);
  }

  // Hands over what did arrive first; an error comes with the next call.
  Result<size_t> Got(size_t got, const beast::error_code& ec) {
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        error_ = Error::TooLarge("the request body is larger than this route accepts");
      } else if (ec == asio::error::timed_out) {
        error_ = Error::Unavailable("the client sent nothing for too long");
      } else {
        error_ = Error::Io("the request body ended early: " + ec.message());
      }
      if (got > 0) {
        return got;
      }
      return Fail(*error_);
    }
    return got;
  }

  bhttp::request_parser<bhttp::buffer_body>& parser_;
  beast::flat_buffer& buffer_;
  BlockingSocket socket_;
  std::optional<uint64_t> remaining_;  // Content-Length bodies: bytes still to come
  std::optional<Error> error_;
};

// What the log line and the connection loop need to know about a written response.
struct Written {
  bool ok = false;
  int status = 0;
};

// The outcome of one request before it is written.
struct Exchange {
  std::optional<Response> response;  // nullopt: close without answering (timeout, reset)
  bool unread_body = false;          // the connection cannot be reused: close after answering
};

using HeaderParser = bhttp::request_parser<bhttp::empty_body>;

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, std::shared_ptr<const Router> router)
      : options_(std::move(options)),
        router_(std::move(router)),
        buffered_bytes_(options_.max_buffered_bytes),
        stream_slots_(static_cast<uint64_t>(std::max(1, options_.max_streams))),
        handlers_(static_cast<size_t>(std::max(1, options_.handler_threads))),
        streams_(static_cast<size_t>(std::max(1, options_.max_streams))),
        ioc_(std::max(1, options_.threads)),
        acceptor_(asio::make_strand(ioc_)) {}

  ~Impl() { Shutdown(std::chrono::milliseconds(0)); }

  Result<void> Start();
  uint16_t port() const { return port_.load(); }
  void Shutdown(std::chrono::milliseconds grace);

 private:
  enum class Room { kYes, kOverflow, kNone };

  asio::awaitable<void> Accept();
  Room MakeRoom();
  bool ShedLongestWaiting();
  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn);
  asio::awaitable<Exchange> Handle(Connection& conn, Request& req, HeaderParser& header_parser,
                                   beast::flat_buffer& buffer);
  asio::awaitable<Exchange> HandleBuffered(Connection& conn, Request& req, const Router::Match& m,
                                           HeaderParser& header_parser, beast::flat_buffer& buffer,
                                           bool admit_here);
  asio::awaitable<Exchange> HandleStream(Connection& conn, Request& req, const Router::Match& m,
                                         HeaderParser& header_parser, beast::flat_buffer& buffer);
  asio::awaitable<Written> Write(Connection& conn, Response& response, bool head, bool keep_alive,
                                 std::string& scratch);
  asio::awaitable<void> Linger(Connection& conn);
  asio::awaitable<Response> AwaitDeferred(Connection& conn, std::shared_ptr<Deferred> deferred);
  bool OnOwnThread();
  template <class Fn>
  auto Guarded(std::string_view what, Request& req, Fn&& fn) -> decltype(fn());
  Response Invoke(const Handler& handler, Request& req);
  std::optional<Response> InvokeAdmission(const Admission& admit, Request& req);
  void LogRequest(std::string_view method, std::string_view path, int status,
                  SteadyClock::time_point start) const;
  // Runs `fn(Connection&)` on every open connection's strand.
  template <class Fn>
  void ForEachConnection(Fn fn);
  void Register(const std::shared_ptr<Connection>& conn);
  void Unregister(Connection* conn);

  const ServerOptions options_;
  const std::shared_ptr<const Router> router_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> draining_{false};
  Quota buffered_bytes_;  // request bodies held in memory, node-wide
  Quota stream_slots_;    // stream_body handlers running
  // Open connections within max_connections, and past it (see kOverflowConnections).
  std::atomic<size_t> open_{0};
  std::atomic<size_t> overflow_open_{0};

  // State below is protected by mu_.
  std::mutex mu_;
  std::condition_variable drained_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
  // Deferred responses connections are waiting for; Shutdown answers them.
  std::unordered_map<Deferred*, std::weak_ptr<Deferred>> deferreds_;

  // State below is protected by lifecycle_mu_ (Start/Shutdown).
  std::mutex lifecycle_mu_;
  bool started_ = false;
  bool running_ = false;
  std::vector<std::thread> threads_;

  // Joined by Shutdown before the io_context goes: a job refers to a suspended connection frame.
  asio::thread_pool handlers_;
  asio::thread_pool streams_;
  // Declared last: destroying the io_context destroys suspended connection coroutines, which
  // unregister themselves under mu_.
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
};

Result<void> Server::Impl::Start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_) {
    return Fail(Error::Internal("http server already started"));
  }
  started_ = true;
  const std::string host = options_.host.empty() ? "0.0.0.0" : options_.host;
  const std::string address = host + ":" + std::to_string(options_.port);
  try {
    beast::error_code ec;
    tcp::endpoint endpoint;
    auto ip = asio::ip::make_address(host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(ip, options_.port);
    } else {
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(host, std::to_string(options_.port), ec);
      if (ec || results.empty()) {
        return Fail(Error::InvalidArgument(address + ": " + ec.message()));
      }
      endpoint = results.begin()->endpoint();
    }
    auto fail = [&](const beast::error_code& e) {
      beast::error_code ignored;
      acceptor_.close(ignored);
      return Fail(Error::Io(address + ": " + e.message()));
    };
    if (acceptor_.open(endpoint.protocol(), ec); ec) {
      return fail(ec);
    }
    if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec) {
      return fail(ec);
    }
    if (acceptor_.bind(endpoint, ec); ec) {
      return fail(ec);
    }
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
      return fail(ec);
    }
    port_ = acceptor_.local_endpoint(ec).port();

    // Spawned before the threads start so that run() has work and does not return at once.
    asio::co_spawn(acceptor_.get_executor(), Accept(), OnCoroutineDone);
    running_ = true;  // from here on Shutdown (or the destructor) must clean up
    int n = std::max(1, options_.threads);
    threads_.reserve(n);
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        for (;;) {
          try {
            ioc_.run();
            return;
          } catch (const std::exception& e) {
            CUTTLE_LOG_ERROR("http: io thread: {}", e.what());
          } catch (...) {
            CUTTLE_LOG_ERROR("http: io thread: unknown exception");
          }
        }
      });
    }
    return {};
  } catch (const std::exception& e) {
    return Fail(Error::Internal(address + ": " + e.what()));
  }
}

asio::awaitable<void> Server::Impl::Accept() {
  asio::any_io_executor pool = ioc_.get_executor();
  for (;;) {
    beast::error_code ec;
    asio::any_io_executor strand = asio::make_strand(ioc_);
    tcp::socket socket = co_await acceptor_.async_accept(strand, Await(ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open() || draining_) {
        co_return;
      }
      // Typically EMFILE: back off instead of spinning.
      CUTTLE_LOG_WARN("http: accept failed: {}", ec.message());
      asio::steady_timer timer(pool, std::chrono::milliseconds(50));
      co_await timer.async_wait(Await(ec));
      continue;
    }
    const Room room = MakeRoom();
    if (room == Room::kNone) {
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const bool overflow = room == Room::kOverflow;
    ++(overflow ? overflow_open_ : open_);
    auto conn = std::make_shared<Connection>(std::move(socket), overflow);
    Register(conn);  // here, not in Serve: the next accept may need to shed it already
    asio::co_spawn(strand, Serve(std::move(conn)), OnCoroutineDone);
  }
}

// A full node first closes the connection that has waited longest for a request header: an idle
// keep-alive its client can reopen, or a header trickling in (slowloris). Only when every
// connection is busy with a request does the newcomer go to the overflow, where the load
// balancer's ping is still answered.
Server::Impl::Room Server::Impl::MakeRoom() {
  if (open_.load() < options_.max_connections || ShedLongestWaiting()) {
    return Room::kYes;
  }
  return overflow_open_.load() < kOverflowConnections ? Room::kOverflow : Room::kNone;
}

bool Server::Impl::ShedLongestWaiting() {
  std::shared_ptr<Connection> victim;
  {
    std::lock_guard lock(mu_);
    int64_t oldest = std::numeric_limits<int64_t>::max();
    for (auto& [ptr, weak] : connections_) {
      auto conn = weak.lock();
      if (!conn || conn->overflow || conn->shed.load()) {
        continue;
      }
      int64_t since = conn->waiting_since.load();
      if (since != 0 && since < oldest) {
        oldest = since;
        victim = std::move(conn);
      }
    }
    if (!victim || victim->shed.exchange(true)) {
      return false;
    }
  }
  // Closed on its strand, and only if it is still waiting. Had it just begun a request, the cap is
  // exceeded by one until a later accept sheds a waiting connection: this one becomes a candidate
  // again (left marked, it would never be chosen and the excess would last its whole keep-alive).
  asio::post(victim->stream.get_executor(), [victim] {
    if (victim->waiting_since.load() != 0) {
      beast::error_code ec;
      victim->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      victim->stream.close();
    } else {
      victim->shed.store(false);
    }
  });
  return true;
}

void Server::Impl::Register(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu_);
  connections_.emplace(conn.get(), conn);
}

void Server::Impl::Unregister(Connection* conn) {
  std::lock_guard lock(mu_);
  connections_.erase(conn);
  --(conn->overflow ? overflow_open_ : open_);
  if (connections_.empty()) {
    drained_.notify_all();
  }
}

template <class Fn>
void Server::Impl::ForEachConnection(Fn fn) {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    for (auto& [ptr, weak] : connections_) {
      if (auto conn = weak.lock()) {
        open.push_back(std::move(conn));
      }
    }
  }
  for (auto& conn : open) {
    asio::post(conn->stream.get_executor(), [conn, fn] { fn(*conn); });
  }
}

asio::awaitable<void> Server::Impl::Serve(std::shared_ptr<Connection> conn) {
  struct Unregisterer {
    Impl* impl;
    Connection* conn;
    ~Unregisterer() { impl->Unregister(conn); }
  } unregisterer{this, conn.get()};

  beast::tcp_stream& stream = conn->stream;
  beast::error_code ec;
  std::string remote;
  if (auto ep = stream.socket().remote_endpoint(ec); !ec) {
    remote = ep.address().to_string();
  }
  beast::flat_buffer buffer;
  std::string scratch;  // response header, reused across requests
  scratch.reserve(512);
  const auto header_timeout = conn->overflow ? std::min<std::chrono::milliseconds>(
                                                   options_.header_timeout, kOverflowHeaderTimeout)
                                             : options_.header_timeout;

  // The first request's header must arrive within header_timeout of the connection itself.
  stream.expires_after(header_timeout);
  bool first = true;
  for (;;) {
    // Wait for the first byte of the next request (unless pipelined bytes are buffered): this is
    // the "idle" state that Shutdown may end at once. The first wait counts from the accept (set
    // by the constructor): coroutines start in no fixed order, so restamping here could make a
    // younger connection look older than one accepted before it.
    if (!first) {
      conn->waiting_since = SteadyNanos();
    }
    if (buffer.size() == 0) {
      if (!first) {
        stream.expires_after(options_.idle_timeout);
      }
      conn->idle = true;
      if (draining_) {
        break;
      }
      size_t n = co_await stream.async_read_some(buffer.prepare(kReadChunk), Await(ec));
      conn->idle = false;
      if (ec) {
        break;
      }
      buffer.commit(n);
    }
    if (!first) {
      // Set once for the whole header, however slowly it trickles in (slowloris).
      stream.expires_after(header_timeout);
    }
    first = false;
    const auto start = SteadyClock::now();

    HeaderParser header_parser;
    header_parser.header_limit(static_cast<uint32_t>(
        std::min<size_t>(options_.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    // Checked below against the route's limit. (Not boost::none: Boost 1.74 compares the
    // Content-Length with an empty optional and rejects every body.)
    header_parser.body_limit(std::numeric_limits<uint64_t>::max());
    co_await bhttp::async_read_header(stream, buffer, header_parser, Await(ec));
    if (ec) {
      bool too_large = ec == bhttp::error::header_limit;
      bool malformed =
          ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (too_large || malformed) {
        Response r = too_large ? Response::Error(431, "The request header is too large.")
                               : Response::Error(400, "The request is malformed.");
        auto written = co_await Write(*conn, r, false, false, scratch);
        LogRequest("-", "-", written.status, start);
        if (written.ok) {
          co_await Linger(*conn);
        }
      }
      break;
    }
    conn->waiting_since = 0;  // a request is under way: no longer shed to make room

    auto& header = header_parser.get();
    Request req;
    req.method = std::string(Std(header.method_string()));
    req.target = std::string(Std(header.target()));
    req.version = header.version();
    req.remote_address = remote;
    ParseTarget(req);
    for (const auto& field : header) {
      auto [it, inserted] = req.headers.emplace(Std(field.name_string()), Std(field.value()));
      if (!inserted) {
        it->second.append(", ").append(Std(field.value()));
      }
    }
    const bool head = header.method() == bhttp::verb::head;
    bool keep_alive = header.keep_alive();

    Exchange exchange = co_await Handle(*conn, req, header_parser, buffer);
    if (!exchange.response) {
      break;  // timeout, reset or malformed chunking: nothing sensible to answer
    }
    if (exchange.response->later) {
      exchange.response = co_await AwaitDeferred(*conn, std::move(exchange.response->later));
    }
    if (exchange.unread_body || draining_ || conn->overflow) {
      keep_alive = false;
    }
    auto written = co_await Write(*conn, *exchange.response, head, keep_alive, scratch);
    LogRequest(req.method, req.path, written.status, start);
    if (!written.ok) {
      break;
    }
    if (!keep_alive) {
      if (exchange.unread_body) {
        co_await Linger(*conn);
      }
      break;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

// Routes the request and takes it through its gates in order of cost: the route's admission from
// the header alone, then the caps, then the body, then the handler.
asio::awaitable<Exchange> Server::Impl::Handle(Connection& conn, Request& req,
                                               HeaderParser& header_parser,
                                               beast::flat_buffer& buffer) {
  Exchange exchange;
  exchange.unread_body = !header_parser.is_done();
  Router::Match match = router_->Find(req.method, req.path);
  if (match.handler == nullptr) {
    exchange.response =
        match.status == 405
            ? Response::Error(405, "The method " + req.method + " is not allowed here.")
            : Response::Error(404, "The resource '" + req.path + "' was not found.");
    co_return exchange;
  }
  req.params = std::move(match.params);
  if (match.options.probe) {
    exchange.response = Invoke(*match.handler, req);
    co_return exchange;
  }
  if (conn.overflow) {
    exchange.response = Busy("This node has too many open connections; try again shortly.");
    co_return exchange;
  }
  // A request with a body is admitted before the body is read, on a pool hop of its own; one
  // without is admitted in the same hop as its handler (each hop costs two thread wake-ups).
  const bool admit_first =
      match.options.admit && (exchange.unread_body || match.options.stream_body);
  if (admit_first) {
    conn.stream.expires_never();  // the admission may wait for the database
    auto refused = co_await OnPool<std::optional<Response>>(
        handlers_, [&] { return InvokeAdmission(match.options.admit, req); });
    if (refused) {
      exchange.response = std::move(*refused);
      co_return exchange;
    }
  }
  if (match.options.stream_body) {
    co_return co_await HandleStream(conn, req, match, header_parser, buffer);
  }
  co_return co_await HandleBuffered(conn, req, match, header_parser, buffer, !admit_first);
}

asio::awaitable<Exchange> Server::Impl::HandleBuffered(Connection& conn, Request& req,
                                                       const Router::Match& match,
                                                       HeaderParser& header_parser,
                                                       beast::flat_buffer& buffer,
                                                       bool admit_here) {
  Exchange exchange;
  exchange.unread_body = !header_parser.is_done();
  std::optional<Held> held;
  if (exchange.unread_body) {
    const uint64_t limit = match.options.max_body_bytes.value_or(options_.max_body_bytes);
    const auto length = header_parser.content_length();
    auto too_large = [&] {
      return Response::Error(
          413, "The request body is larger than " + std::to_string(limit) + " bytes.");
    };
    if (length && *length > limit) {
      exchange.response = too_large();
      co_return exchange;
    }
    // Counted before a byte is read; a chunked body may grow to the route's limit.
    const uint64_t reserve = length.value_or(limit);
    if (!buffered_bytes_.TryTake(reserve)) {
      exchange.response =
          Busy("This node is receiving too many request bodies; try again shortly.");
      co_return exchange;
    }
    held.emplace(buffered_bytes_, reserve);
    if (auto expect = req.Header("Expect");
        expect && core::EqualsIgnoreCase(*expect, "100-continue")) {
      beast::error_code ec;
      co_await SendContinue(conn.stream, ec);
      if (ec) {
        co_return exchange;
      }
    }
    bhttp::request_parser<bhttp::string_body> body_parser{std::move(header_parser)};
    body_parser.body_limit(limit);
    conn.stream.expires_after(options_.body_timeout);
    beast::error_code ec;
    co_await bhttp::async_read(conn.stream, buffer, body_parser, Await(ec));
    if (ec == bhttp::error::body_limit) {  // a chunked body over the limit
      exchange.response = too_large();
      co_return exchange;
    }
    if (ec) {
      co_return exchange;
    }
    exchange.unread_body = false;
    req.body = std::move(body_parser.get().body());
  }
  conn.stream.expires_never();  // a handler may block for long
  exchange.response = co_await OnPool<Response>(handlers_, [&] {
    if (admit_here && match.options.admit) {
      if (auto refused = InvokeAdmission(match.options.admit, req)) {
        return std::move(*refused);
      }
    }
    return Invoke(*match.handler, req);
  });
  std::string().swap(req.body);  // before the bytes are given back
  co_return exchange;
}

asio::awaitable<Exchange> Server::Impl::HandleStream(Connection& conn, Request& req,
                                                     const Router::Match& match,
                                                     HeaderParser& header_parser,
                                                     beast::flat_buffer& buffer) {
  Exchange exchange;
  exchange.unread_body = !header_parser.is_done();
  const std::optional<uint64_t> limit = match.options.max_body_bytes;
  const auto length = header_parser.content_length();
  if (exchange.unread_body && limit && length && *length > *limit) {
    exchange.response = Response::Error(
        413, "The request body is larger than " + std::to_string(*limit) + " bytes.");
    co_return exchange;
  }
  if (!stream_slots_.TryTake(1)) {
    exchange.response = Busy("This node is receiving too many uploads; try again shortly.");
    co_return exchange;
  }
  Held slot(stream_slots_, 1);
  if (auto expect = req.Header("Expect");
      exchange.unread_body && expect && core::EqualsIgnoreCase(*expect, "100-continue")) {
    beast::error_code ec;
    co_await SendContinue(conn.stream, ec);
    if (ec) {
      co_return exchange;
    }
  }
  bhttp::request_parser<bhttp::buffer_body> body_parser{std::move(header_parser)};
  if (limit) {
    body_parser.body_limit(*limit);
  }
  StreamedBody body(
      body_parser, buffer,
      BlockingSocket(conn.stream.socket().native_handle(), options_.stream_idle_timeout), limit);
  const bool has_body = exchange.unread_body;
  req.body_reader = [&body, has_body](char* out, size_t n) -> Result<size_t> {
    if (!has_body) {
      return 0;
    }
    return body.Read(out, n);
  };
  conn.stream.expires_never();  // the handler reads (and may block) with its own deadline
  conn.in_handler = true;
  exchange.response =
      co_await OnPool<Response>(streams_, [&] { return Invoke(*match.handler, req); });
  conn.in_handler = false;
  req.body_reader = nullptr;
  exchange.unread_body = has_body && !body.done();
  co_return exchange;
}

bool Server::Impl::OnOwnThread() {
  return ioc_.get_executor().running_in_this_thread() ||
         handlers_.get_executor().running_in_this_thread() ||
         streams_.get_executor().running_in_this_thread();
}

// Handlers and admissions are the API's code: an exception from one is a 500 for its request, never
// the end of a pool thread. `what` names which of the two threw in the log.
template <class Fn>
auto Server::Impl::Guarded(std::string_view what, Request& req, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    CUTTLE_LOG_ERROR("{} {}: {} threw: {}", req.method, req.path, what, e.what());
  } catch (...) {
    CUTTLE_LOG_ERROR("{} {}: {} threw a non-standard exception", req.method, req.path, what);
  }
  return Response::Error(500, "An unexpected error occurred on the server.");
}

Response Server::Impl::Invoke(const Handler& handler, Request& req) {
  Response r = Guarded("handler", req, [&] { return handler(req); });
  CompressForClient(req, r);  // on the handler's pool thread, not an I/O thread
  return r;
}

std::optional<Response> Server::Impl::InvokeAdmission(const Admission& admit, Request& req) {
  return Guarded("admission", req, [&] { return admit(req); });
}

asio::awaitable<Written> Server::Impl::Write(Connection& conn, Response& response, bool head,
                                             bool keep_alive, std::string& scratch) {
  // Validate a file body before any byte is sent: afterwards the status cannot change.
  std::optional<Fd> file;
  if (response.file) {
    const FileBody& f = *response.file;
    file.emplace(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (file->get() < 0 || ::fstat(file->get(), &st) != 0 ||
        f.offset + f.length > static_cast<uint64_t>(st.st_size) || f.offset + f.length < f.offset) {
      CUTTLE_LOG_ERROR("http: cannot serve {} [{}, +{}): {}", f.path, f.offset, f.length,
                       file->get() < 0 ? std::strerror(errno) : "range outside the file");
      file.reset();
      response = Response::Error(500, "The file could not be read.");
    }
  }

  const int status = response.status;
  // RFC 9110: 1xx, 204 and 304 have no content and (here) no Content-Length.
  const bool no_content = status < 200 || status == 204 || status == 304;
  const std::string& payload = response.shared_body ? *response.shared_body : response.body;
  const uint64_t length = no_content ? 0 : file ? response.file->length : payload.size();

  std::string& out = scratch;
  out.clear();
  out += "HTTP/1.1 ";
  AppendNumber(out, static_cast<uint64_t>(status));
  out += ' ';
  out += Std(bhttp::obsolete_reason(static_cast<bhttp::status>(status)));
  out += "\r\nServer: Cuttle\r\n";
  if (!options_.node_name.empty()) {
    out += "Octopus-Node: ";
    AppendSanitized(out, options_.node_name);
    out += "\r\n";
  }
  const bool own_content_type = !response.content_type.empty() && !no_content;
  if (own_content_type) {
    out += "Content-Type: ";
    AppendSanitized(out, response.content_type);
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    if (IsReservedHeader(name) ||
        (own_content_type && core::EqualsIgnoreCase(name, "Content-Type"))) {
      continue;
    }
    AppendSanitized(out, name);
    out += ": ";
    AppendSanitized(out, value);
    out += "\r\n";
  }
  if (!no_content) {
    out += "Content-Length: ";
    AppendNumber(out, length);
    out += "\r\n";
  }
  if (keep_alive) {
    // How long an idle connection is kept, so that a client (Node's fetch, for one) closes its
    // pooled connection before this server does rather than send a request into the close.
    out += "Connection: keep-alive\r\nKeep-Alive: timeout=";
    const auto idle_s =
        std::chrono::duration_cast<std::chrono::seconds>(options_.idle_timeout).count();
    AppendNumber(out, static_cast<uint64_t>(std::max<int64_t>(1, idle_s)));
    out += "\r\n\r\n";
  } else {
    out += "Connection: close\r\n\r\n";
  }

  beast::error_code ec;
  conn.stream.expires_after(options_.body_timeout);
  const bool send_body = !head && length > 0;
  if (!file || !send_body) {
    std::array<asio::const_buffer, 2> buffers{
        asio::buffer(out), send_body ? asio::buffer(payload) : asio::const_buffer()};
    co_await asio::async_write(conn.stream, buffers, Await(ec));
    co_return Written{!ec, status};
  }

  // File: the header first, then sendfile(2) from the page cache straight to the socket (no copy
  // through user space: a download runs near the speed of reading the file). Should the file
  // system refuse sendfile, fall back to pread + write in flat chunks.
  conn.stream.expires_after(options_.body_timeout);
  co_await asio::async_write(conn.stream, asio::buffer(out), Await(ec));
  if (ec) {
    co_return Written{false, status};
  }
  auto& socket = conn.stream.socket();
  socket.native_non_blocking(true, ec);
  off_t offset = static_cast<off_t>(response.file->offset);
  uint64_t left = length;
  bool use_sendfile = !ec;
  std::unique_ptr<char[]> chunk;
  while (left > 0) {
    ssize_t sent = -1;
    if (use_sendfile) {
      sent = ::sendfile(socket.native_handle(), file->get(), &offset,
                        static_cast<size_t>(std::min<uint64_t>(left, kSendfileChunk)));
      if (sent < 0 && (errno == EINVAL || errno == ENOSYS)) {
        use_sendfile = false;
        continue;
      }
    } else {
      if (!chunk) {
        chunk.reset(new char[kFileChunk]);
      }
      size_t want = static_cast<size_t>(std::min<uint64_t>(kFileChunk, left));
      ssize_t got = ::pread(file->get(), chunk.get(), want, offset);
      if (got > 0) {
        conn.stream.expires_after(options_.body_timeout);
        co_await asio::async_write(conn.stream, asio::buffer(chunk.get(), static_cast<size_t>(got)),
                                   Await(ec));
        if (ec) {
          co_return Written{false, status};
        }
        offset += got;
      }
      sent = got;
    }
    if (sent > 0) {
      left -= static_cast<uint64_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) {
      continue;
    }
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket buffer is full: wait until the client reads, at most body_timeout.
      asio::steady_timer timer(conn.stream.get_executor(), options_.body_timeout);
      timer.async_wait([&socket](beast::error_code e) {
        if (!e) {
          beast::error_code ignored;
          socket.cancel(ignored);
        }
      });
      co_await socket.async_wait(tcp::socket::wait_write, Await(ec));
      timer.cancel();
      if (ec) {
        co_return Written{false, status};
      }
      continue;
    }
    // Truncated underneath us (0) or a socket error: the Content-Length cannot be met, so close.
    CUTTLE_LOG_ERROR("http: sending {} at {} failed: {}", response.file->path, offset,
                     sent == 0 ? "unexpected end of file" : std::strerror(errno));
    co_return Written{false, status};
  }
  co_return Written{true, status};
}

asio::awaitable<void> Server::Impl::Linger(Connection& conn) {
  beast::error_code ec;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn.stream.expires_after(kLingerTime);
  std::array<char, 64 * 1024> sink;
  uint64_t drained = 0;
  while (!ec && drained < kLingerBytes) {
    drained += co_await conn.stream.async_read_some(asio::buffer(sink), Await(ec));
  }
}

// Waits on the connection's strand, holding no thread, until the deferred response is completed
// (by whoever holds it, by the deadline, or by Shutdown). Complete may run on any thread: it
// posts a cancel of the timer to the strand, which cannot run before this coroutine has
// suspended in the wait, so no wake-up is lost between the check and the wait.
asio::awaitable<Response> Server::Impl::AwaitDeferred(Connection& conn,
                                                      std::shared_ptr<Deferred> deferred) {
  bool shutting_down = false;
  {
    std::lock_guard lock(mu_);
    shutting_down = draining_.load();
    if (!shutting_down) {
      deferreds_.emplace(deferred.get(), deferred);
    }
  }
  if (shutting_down) {
    deferred->Complete(Busy("This node is shutting down; try another node."));
  }
  auto timer = std::make_shared<asio::steady_timer>(conn.stream.get_executor());
  timer->expires_after(options_.deferred_timeout);
  deferred->Watch([timer] { asio::post(timer->get_executor(), [timer] { timer->cancel(); }); });
  conn.stream.expires_never();
  while (!deferred->done()) {
    beast::error_code ec;
    co_await timer->async_wait(Await(ec));
    if (!ec) {  // the deadline, not a wake-up
      deferred->Complete(Busy("The response was not ready in time; try again shortly."));
    }
  }
  {
    std::lock_guard lock(mu_);
    deferreds_.erase(deferred.get());
  }
  co_return deferred->Take();
}

void Server::Impl::LogRequest(std::string_view method, std::string_view path, int status,
                              SteadyClock::time_point start) const {
  if (!options_.log_requests) {
    return;
  }
  double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
  CUTTLE_LOG_INFO("{} {} {} {:.1f}ms node={}", method, path, status, ms, options_.node_name);
}

void Server::Impl::Shutdown(std::chrono::milliseconds grace) {
  if (OnOwnThread()) {
    // It would wait for itself: joining the calling thread cannot succeed.
    CUTTLE_LOG_ERROR("http: Shutdown called from a request handler; ignored");
    return;
  }
  std::lock_guard lock(lifecycle_mu_);
  if (!running_) {
    return;
  }
  running_ = false;
  const auto deadline = SteadyClock::now() + grace;
  draining_ = true;

  // Stop accepting. The close runs on the acceptor's strand; wait so that when Shutdown has
  // moved on, new connections are refused.
  auto closed = std::make_shared<std::promise<void>>();
  auto closed_future = closed->get_future();
  asio::post(acceptor_.get_executor(), [this, closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    closed->set_value();
  });
  closed_future.wait_until(deadline);

  // Deferred responses are answered now: their client (a long poll) goes to another node instead
  // of holding this one's drain for the whole grace. New ones see draining_ (AwaitDeferred).
  std::vector<std::shared_ptr<Deferred>> waiting;
  {
    std::lock_guard lock(mu_);
    for (auto& [ptr, weak] : deferreds_) {
      if (auto d = weak.lock()) {
        waiting.push_back(std::move(d));
      }
    }
  }
  for (auto& d : waiting) {
    d->Complete(Busy("This node is shutting down; try another node."));
  }

  // Idle keep-alive connections go at once; busy ones finish their request (the response says
  // "Connection: close" since draining_ is set) and then close themselves.
  ForEachConnection([](Connection& conn) {
    if (conn.idle) {
      conn.stream.close();
    }
  });
  {
    std::unique_lock lk(mu_);
    drained_.wait_until(lk, deadline, [this] { return connections_.empty(); });
  }
  // Grace is over: close whatever is left and give the coroutines a moment to unwind. A socket a
  // pool thread may be reading is only shut down (which wakes its poll); its coroutine closes it.
  auto close = [](Connection& conn) {
    beast::error_code ignored;
    conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (!conn.in_handler) {
      conn.stream.close();
    }
  };
  ForEachConnection(close);
  {
    std::unique_lock lk(mu_);
    drained_.wait_for(lk, std::chrono::milliseconds(200), [this] { return connections_.empty(); });
  }
  ioc_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  // Running handlers finish (a running handler cannot be interrupted); queued ones are dropped.
  handlers_.stop();
  streams_.stop();
  handlers_.join();
  streams_.join();
  // A handler that outlived the grace left its connection suspended when the loop stopped: run
  // the closes here so that its socket is closed now rather than when the Server is destroyed.
  try {
    ioc_.restart();
    ForEachConnection(close);
    ioc_.run_for(std::chrono::milliseconds(200));
  } catch (const std::exception& e) {
    CUTTLE_LOG_ERROR("http: shutdown: {}", e.what());
  }
  threads_.clear();
}

Server::Server(ServerOptions options, std::shared_ptr<const Router> router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() = default;

Result<void> Server::Start() { return impl_->Start(); }

uint16_t Server::port() const { return impl_->port(); }

void Server::Shutdown(std::chrono::milliseconds grace) { impl_->Shutdown(grace); }

}  // namespace cuttle::http
