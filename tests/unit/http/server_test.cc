#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <thread>

#include "http/http.h"
#include "testing/temp_dir.h"

namespace cuttle::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using RawResponse = bhttp::response<bhttp::string_body>;

std::string Std(boost::beast::string_view s) { return std::string(s.data(), s.size()); }

// A blocking client on a plain socket. Every read has a receive timeout, so a server bug fails
// the test instead of hanging it.
class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{.tv_sec = 3, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~TestClient() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One response; nullopt if the connection ends (or times out) first.
  std::optional<RawResponse> Read(bool head_request = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head_request);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(true);
    for (;;) {
      if (!pending_.empty()) {
        boost::beast::error_code ec;
        size_t used = parser.put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec && ec != bhttp::error::need_more) {
          return std::nullopt;
        }
        if (parser.is_done()) {
          return parser.release();
        }
        if (used > 0 && !pending_.empty()) {
          continue;
        }
      }
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        return std::nullopt;
      }
      pending_.append(buf, static_cast<size_t>(n));
    }
  }

  // True if the server closes the connection (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      char buf[4096];
      if (::recv(fd_, buf, sizeof(buf), 0) <= 0) {
        return true;
      }
    }
  }

  // True if the server has sent something (or closed) within `timeout`, without consuming it.
  bool Readable(std::chrono::milliseconds timeout) {
    if (!pending_.empty()) {
      return true;
    }
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  // Waits up to `timeout` for the peer to close without consuming data: true when closed.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      return false;
    }
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK) <= 0;
  }

 private:
  int fd_ = -1;
  std::string pending_;
};

std::string Get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    options_.port = 0;
    options_.threads = 2;
    options_.node_name = "node-a";
    options_.log_requests = false;
    router_->Add("GET", "/api/ping", [](Request&) {
      return Response::Json(200, {{"Status", "ok"}});
    });
  }

  void Start() {
    server_ = std::make_unique<Server>(options_, router_);
    auto started = server_->Start();
    ASSERT_TRUE(started) << started.error().message();
  }

  uint16_t port() const { return server_->port(); }

  ServerOptions options_;
  std::shared_ptr<Router> router_ = std::make_shared<Router>();
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, PingHasNodeHeaderAndContentLength) {
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/ping")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->body(), R"({"Status":"ok"})");
  EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
  EXPECT_EQ(Std((*r)["Server"]), "Cuttle");
  EXPECT_EQ(Std((*r)["Content-Type"]), "application/json; charset=utf-8");
  EXPECT_EQ(Std((*r)["Content-Length"]), "15");
}

// A large JSON answer goes gzipped to a client that accepts gzip, as it is to one that does not.
TEST_F(ServerTest, LargeJsonAnswersAreGzippedForClientsThatAcceptIt) {
  const std::string big = std::string("[") + std::string(40000, '1') + "]";
  router_->Add("GET", "/api/big", [&](Request&) {
    return Response::Text(200, big, "application/json; charset=utf-8");
  });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/big", "Accept-Encoding: gzip\r\n")));
  auto gz = c.Read();
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->result_int(), 200);
  EXPECT_EQ(Std((*gz)["Content-Encoding"]), "gzip");
  EXPECT_EQ(Std((*gz)["Vary"]), "Accept-Encoding");
  EXPECT_LT(gz->body().size(), big.size() / 10);
  ASSERT_TRUE(c.Send(Get("/api/big")));
  auto plain = c.Read();
  ASSERT_TRUE(plain);
  EXPECT_EQ(Std((*plain)["Content-Encoding"]), "");
  EXPECT_EQ(plain->body(), big);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreOctopusErrorsWithNodeHeader) {
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/nothing")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 404);
  EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
  auto j = nlohmann::json::parse(r->body());
  EXPECT_TRUE(j["ErrorMessage"].is_string());
  EXPECT_TRUE(j["Errors"].is_array());

  ASSERT_TRUE(c.Send("DELETE /api/ping HTTP/1.1\r\nHost: test\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 405);
  EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
}

TEST_F(ServerTest, DecodesPathQueryAndCaptures) {
  router_->Add("GET", "/items/{id}", [](Request& req) {
    return Response::Json(200, {{"id", req.Param("id")},
                                {"path", req.path},
                                {"raw", req.raw_query},
                                {"name", req.Query("NAME").value_or("?")},
                                {"x", req.Query("x").value_or("?")},
                                {"flag", req.Query("flag").value_or("?")},
                                {"agent", req.Header("user-agent").value_or("?")}});
  });
  Start();
  TestClient c(port());
  ASSERT_TRUE(
      c.Send(Get("/items/My%20Id?name=a+b%20c&name=second&x=%2F&flag", "User-Agent: t\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->result_int(), 200);
  auto j = nlohmann::json::parse(r->body());
  EXPECT_EQ(j["id"], "My Id");
  EXPECT_EQ(j["path"], "/items/My Id");
  EXPECT_EQ(j["raw"], "name=a+b%20c&name=second&x=%2F&flag");
  EXPECT_EQ(j["name"], "a b c");
  EXPECT_EQ(j["x"], "/");
  EXPECT_EQ(j["flag"], "");
  EXPECT_EQ(j["agent"], "t");
}

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Start();
  TestClient c(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.Send(Get("/api/ping")));
    auto r = c.Read();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->result_int(), 200);
    EXPECT_TRUE(r->keep_alive());
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/ping") + Get("/api/nothing")));
  auto first = c.Read();
  auto second = c.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->result_int(), 200);
  EXPECT_EQ(second->result_int(), 404);
}

TEST_F(ServerTest, Http10GetsContentLengthAndClose) {
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("GET /api/ping HTTP/1.0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(Std((*r)["Content-Length"]), "15");
  EXPECT_EQ(Std((*r)["Connection"]), "close");
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, Http10KeepAliveIsHonoured) {
  Start();
  TestClient c(port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.Send("GET /api/ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(Std((*r)["Connection"]), "keep-alive");
    // The idle timeout (60 s by default) in whole seconds, for clients that pool connections.
    EXPECT_EQ(Std((*r)["Keep-Alive"]), "timeout=60");
  }
}

TEST_F(ServerTest, KeepAliveNamesAtLeastOneSecond) {
  options_.idle_timeout = 200ms;
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/ping")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(Std((*r)["Keep-Alive"]), "timeout=1");
}

TEST_F(ServerTest, CloseSendsNoKeepAlive) {
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("GET /api/ping HTTP/1.0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(Std((*r)["Connection"]), "close");
  EXPECT_EQ((*r).count("Keep-Alive"), 0u);
}

TEST_F(ServerTest, HeadHasContentLengthButNoBody) {
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("HEAD /api/ping HTTP/1.1\r\nHost: test\r\n\r\n"));
  auto r = c.Read(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(Std((*r)["Content-Length"]), "15");
  // Had a body been sent, it would be parsed as the next response and fail.
  ASSERT_TRUE(c.Send(Get("/api/nothing")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 404);
}

TEST_F(ServerTest, BodyWithinLimitReachesHandler) {
  router_->Add("POST", "/echo", [](Request& req) { return Response::Text(200, req.body); });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "hello");
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
             "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "abcde");
}

TEST_F(ServerTest, OversizedBodyIs413AndHandlerIsNotCalled) {
  std::atomic<int> calls = 0;
  router_->Add("POST", "/upload",
               [&](Request&) {
                 ++calls;
                 return Response::Json(200, {});
               },
               {.max_body_bytes = 10});
  Start();
  {
    TestClient c(port());
    ASSERT_TRUE(c.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" +
                       std::string(100, 'x')));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 413);
    EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
    EXPECT_TRUE(nlohmann::json::parse(r->body())["Errors"].is_array());
    EXPECT_FALSE(r->keep_alive());
  }
  {
    TestClient c(port());
    ASSERT_TRUE(
        c.Send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n" +
               std::string(8, 'x') + "\r\n8\r\n" + std::string(8, 'y') + "\r\n0\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 413);
  }
  EXPECT_EQ(calls, 0);
}

TEST_F(ServerTest, ServerDefaultBodyLimitApplies) {
  options_.max_body_bytes = 4;
  router_->Add("POST", "/echo", [](Request& req) { return Response::Text(200, req.body); });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413);
}

TEST_F(ServerTest, OversizedHeaderIsRefused) {
  options_.max_header_bytes = 1024;
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/ping", "X-Big: " + std::string(4096, 'a') + "\r\n")));
  auto r = c.Read();
  if (r) {
    EXPECT_EQ(r->result_int(), 431);
    EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
  }
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, SlowHeaderIsCutOffAfterHeaderTimeout) {
  options_.header_timeout = 500ms;
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.connected());
  // At one byte per 200 ms this header would take ~8 s to complete.
  const std::string header = Get("/api/ping", "X-Slow: yes\r\n");
  const auto start = SteadyClock::now();
  bool closed = false;
  for (char byte : header) {
    if (!c.Send(std::string_view(&byte, 1)) || c.ClosedWithin(200ms)) {
      closed = true;
      break;
    }
  }
  auto elapsed = SteadyClock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, 400ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  options_.idle_timeout = 200ms;
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/api/ping")));
  ASSERT_TRUE(c.Read());
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, ThrowingHandlerIs500AndServerSurvives) {
  router_->Add("GET", "/boom", [](Request&) -> Response { throw std::runtime_error("kaboom"); });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/boom")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 500);
  EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
  auto j = nlohmann::json::parse(r->body());
  EXPECT_TRUE(j["ErrorMessage"].is_string());
  EXPECT_TRUE(j["Errors"].is_array());
  ASSERT_TRUE(c.Send(Get("/api/ping")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
}

TEST_F(ServerTest, FileResponseSendsExactlyTheRange) {
  testing::TempDir dir;
  const std::string path = dir.Sub("package.nupkg");
  std::string content;
  for (int i = 0; i < 1024 * 1024; ++i) {
    content += static_cast<char>('a' + (i * 7) % 26);
  }
  std::ofstream(path, std::ios::binary) << content;
  constexpr uint64_t kOffset = 1000;
  constexpr uint64_t kLength = 600000;  // more than one 256 KiB chunk
  router_->Add("GET", "/file", [&](Request&) {
    Response r;
    r.content_type = "application/octet-stream";
    r.file = FileBody{path, kOffset, kLength};
    return r;
  });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/file")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(Std((*r)["Content-Length"]), std::to_string(kLength));
  EXPECT_EQ(Std((*r)["Content-Type"]), "application/octet-stream");
  EXPECT_TRUE(r->body() == content.substr(kOffset, kLength));

  ASSERT_TRUE(c.Send("HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n"));
  r = c.Read(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(Std((*r)["Content-Length"]), std::to_string(kLength));
  ASSERT_TRUE(c.Send(Get("/api/ping")));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
}

TEST_F(ServerTest, MissingFileIs500) {
  router_->Add("GET", "/file", [](Request&) {
    Response r;
    r.file = FileBody{"/nonexistent/cuttle-test-file", 0, 10};
    return r;
  });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/file")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 500);
}

TEST_F(ServerTest, PortInUseFailsNamingTheAddress) {
  Start();
  ServerOptions second = options_;
  second.port = port();
  Server other(second, router_);
  auto started = other.Start();
  ASSERT_FALSE(started);
  const std::string& message = started.error().message();
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port())), std::string::npos) << message;
  EXPECT_NE(message.find("in use"), std::string::npos) << message;
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestFinishAndRefusesNewConnections) {
  std::promise<void> entered;
  router_->Add("GET", "/slow", [&](Request&) {
    entered.set_value();
    std::this_thread::sleep_for(300ms);
    return Response::Json(200, {{"done", true}});
  });
  Start();
  const uint16_t p = port();

  TestClient idle(p);
  ASSERT_TRUE(idle.Send(Get("/api/ping")));
  ASSERT_TRUE(idle.Read());

  TestClient busy(p);
  ASSERT_TRUE(busy.Send(Get("/slow")));
  entered.get_future().wait();

  const auto start = SteadyClock::now();
  std::thread stopper([&] { server_->Shutdown(5s); });

  // The idle keep-alive connection is closed at once, long before the slow handler ends.
  EXPECT_TRUE(idle.WaitClosed(250ms));
  // New connections are refused once the acceptor is closed.
  bool refused = false;
  while (!refused && SteadyClock::now() - start < 250ms) {
    TestClient late(p);
    refused = !late.connected();
    if (!refused) {
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_TRUE(refused);

  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(Std((*r)["Connection"]), "close");
  EXPECT_TRUE(busy.WaitClosed(1s));
  stopper.join();
  EXPECT_LT(SteadyClock::now() - start, 2s);
  server_->Shutdown();  // idempotent
}

TEST_F(ServerTest, ShutdownClosesWhatOutlivesTheGrace) {
  std::promise<void> entered;
  router_->Add("GET", "/slow", [&](Request&) {
    entered.set_value();
    std::this_thread::sleep_for(400ms);
    return Response::Json(200, {});
  });
  Start();
  TestClient busy(port());
  ASSERT_TRUE(busy.Send(Get("/slow")));
  entered.get_future().wait();
  const auto start = SteadyClock::now();
  server_->Shutdown(50ms);
  // A running handler cannot be interrupted; Shutdown waits for it and closes the connection.
  EXPECT_LT(SteadyClock::now() - start, 1s);
  EXPECT_TRUE(busy.WaitClosed(1s));
}

// --- Streamed request bodies (Router::Options::stream_body) ---

// Resident memory of this process in KiB (VmRSS), to show a streamed body is not buffered.
int64_t ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoll(line.substr(6));
    }
  }
  return -1;
}

struct StreamOutcome {
  uint64_t bytes = 0;
  uint64_t sum = 0;  // sum of all bytes, to check content as well as length
  size_t largest_read = 0;
  std::optional<Error> error;
  int64_t rss_growth_kib = 0;
};

// A handler that pulls the whole body with a 256 KiB buffer and reports what it saw.
Handler StreamingHandler(std::promise<StreamOutcome>& done) {
  return [&done](Request& req) {
    StreamOutcome out;
    const int64_t rss_before = ResidentKiB();
    std::vector<char> buf(256 * 1024);
    for (;;) {
      auto n = req.body_reader(buf.data(), buf.size());
      if (!n) {
        out.error = n.error();
        break;
      }
      if (*n == 0) {
        break;
      }
      out.largest_read = std::max(out.largest_read, *n);
      out.bytes += *n;
      for (size_t i = 0; i < *n; ++i) {
        out.sum += static_cast<unsigned char>(buf[i]);
      }
    }
    out.rss_growth_kib = ResidentKiB() - rss_before;
    const bool ok = !out.error && req.body.empty();
    done.set_value(out);
    return Response::Json(ok ? 200 : 400, {{"Bytes", out.bytes}});
  };
}

TEST_F(ServerTest, StreamedBodyOf256MiBIsReadInPiecesWithFlatMemory) {
  std::promise<StreamOutcome> done;
  router_->Add("PUT", "/upload", StreamingHandler(done), {.stream_body = true});
  Start();
  TestClient c(port());
  constexpr uint64_t kTotal = 256ULL << 20;
  std::string piece(1 << 20, '\0');
  for (size_t i = 0; i < piece.size(); ++i) {
    piece[i] = static_cast<char>(i * 7);
  }
  uint64_t piece_sum = 0;
  for (char ch : piece) {
    piece_sum += static_cast<unsigned char>(ch);
  }
  ASSERT_TRUE(c.Send(
      "PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(kTotal) + "\r\n\r\n"));
  for (uint64_t sent = 0; sent < kTotal; sent += piece.size()) {
    ASSERT_TRUE(c.Send(piece));
  }
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  StreamOutcome out = done.get_future().get();
  EXPECT_FALSE(out.error) << out.error->message();
  EXPECT_EQ(out.bytes, kTotal);
  EXPECT_EQ(out.sum, piece_sum * (kTotal / piece.size()));
  EXPECT_LE(out.largest_read, 256u * 1024);
  // Buffering the body would add 256 MiB; streaming holds a few socket buffers.
  EXPECT_LT(out.rss_growth_kib, 16 * 1024);
  // The body was consumed, so the connection is still usable.
  EXPECT_TRUE(r->keep_alive());
  ASSERT_TRUE(c.Send(Get("/api/ping")));
  auto again = c.Read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result_int(), 200);
}

TEST_F(ServerTest, StreamedChunkedBodyIsDecoded) {
  std::promise<StreamOutcome> done;
  router_->Add("POST", "/upload", StreamingHandler(done), {.stream_body = true});
  Start();
  TestClient c(port());
  ASSERT_TRUE(
      c.Send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  StreamOutcome out = done.get_future().get();
  EXPECT_EQ(out.bytes, 5u);
  EXPECT_EQ(out.sum, uint64_t{'a' + 'b' + 'c' + 'd' + 'e'});
}

TEST_F(ServerTest, AbortedUploadGivesTheHandlerAnError) {
  std::promise<StreamOutcome> done;
  router_->Add("PUT", "/upload", StreamingHandler(done), {.stream_body = true});
  Start();
  {
    TestClient c(port());
    ASSERT_TRUE(c.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n" +
                       std::string(100 * 1024, 'x')));
  }  // the client goes away with 924 KiB unsent
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  StreamOutcome out = future.get();
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code(), ErrorCode::kIo);
  EXPECT_EQ(out.bytes, 100u * 1024);
}

TEST_F(ServerTest, StalledUploadTimesOutPerRead) {
  options_.stream_idle_timeout = 200ms;
  std::promise<StreamOutcome> done;
  router_->Add("PUT", "/upload", StreamingHandler(done), {.stream_body = true});
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"));
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  StreamOutcome out = future.get();
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->code(), ErrorCode::kUnavailable);
  EXPECT_EQ(out.bytes, 3u);
}

TEST_F(ServerTest, StreamRouteLimitIs413BeforeTheHandler) {
  std::atomic<int> calls = 0;
  router_->Add("PUT", "/upload",
               [&](Request&) {
                 ++calls;
                 return Response::Json(200, {});
               },
               {.max_body_bytes = 10, .stream_body = true});
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" +
                     std::string(100, 'x')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413);
  EXPECT_EQ(calls, 0);
}

TEST_F(ServerTest, UnreadStreamedBodyClosesTheConnectionAfterTheResponse) {
  router_->Add("PUT", "/upload", [](Request&) { return Response::Error(400, "no thanks"); },
               {.stream_body = true});
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" +
                     std::string(1000, 'x')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 400);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.WaitClosed(3s));
}

TEST_F(ServerTest, BodylessRequestOnAStreamRouteReadsZero) {
  std::promise<StreamOutcome> done;
  router_->Add("GET", "/upload", StreamingHandler(done), {.stream_body = true});
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/upload")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(done.get_future().get().bytes, 0u);
}

// --- Hostile clients (issue 9) ---

// A handler that blocks until released, to hold the pools busy.
struct Gate {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> entered = 0;
  // True once `n` handlers are blocked; false after 10 s, so a regression fails instead of hanging.
  bool WaitEntered(int n) {
    for (auto deadline = std::chrono::steady_clock::now() + 10s; entered < n;) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  Handler Blocking() {
    return [this](Request&) {
      ++entered;
      released.wait();
      return Response::Json(200, {});
    };
  }
};

TEST_F(ServerTest, AdmissionRefusesFromTheHeaderBeforeTheBodyIsRead) {
  // Bug: buffered bodies (up to 10 MiB) were read before the handler checked the key.
  std::atomic<int> calls = 0;
  router_->Add("POST", "/tasks",
               [&](Request& req) {
                 ++calls;
                 return Response::Text(200,
                                       std::any_cast<std::string>(req.principal) + ":" + req.body);
               },
               {.max_body_bytes = std::nullopt,
                .stream_body = false,
                .admit = [](Request& req) -> std::optional<Response> {
                  if (req.Header("X-Key") != "good") {
                    return Response::Error(401, "no key");
                  }
                  req.principal = std::string("alice");
                  return std::nullopt;
                },
                .probe = false});
  Start();
  TestClient refused(port());
  // 10 MiB announced, not a byte sent: the answer can only come from the header.
  ASSERT_TRUE(refused.Send("POST /tasks HTTP/1.1\r\nHost: t\r\nContent-Length: 10485760\r\n\r\n"));
  auto r = refused.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 401);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_EQ(calls, 0);

  TestClient admitted(port());
  ASSERT_TRUE(admitted.Send(
      "POST /tasks HTTP/1.1\r\nHost: t\r\nX-Key: good\r\nContent-Length: 2\r\n\r\nhi"));
  r = admitted.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->body(), "alice:hi");  // the admission's principal reached the handler
}

TEST_F(ServerTest, BodiesPastTheBufferedBudgetAre503WithRetryAfter) {
  // Bug: nothing bounded the bytes buffered across requests (60 bodies took 600 MB).
  options_.max_buffered_bytes = 100;
  std::atomic<int> calls = 0;
  router_->Add("POST", "/echo", [&](Request& req) {
    ++calls;
    return Response::Text(200, req.body);
  });
  Start();
  // The holder's 80 bytes are counted once its header is in; until then a second body of 30 is
  // served (200). Once it is, the second is refused without its body being read. Should a second
  // be in flight when the holder arrives, the holder is the one refused: start again.
  std::optional<RawResponse> r;
  std::unique_ptr<TestClient> holder;
  int served = 0;
  for (int attempt = 0; attempt < 20 && !r; ++attempt) {
    holder = std::make_unique<TestClient>(port());
    ASSERT_TRUE(holder->Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 80\r\n\r\nabc"));
    for (int i = 0; i < 100 && !r && !holder->Readable(0ms); ++i) {
      TestClient second(port());
      ASSERT_TRUE(second.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 30\r\n\r\n" +
                              std::string(30, 's')));
      auto got = second.Read();
      ASSERT_TRUE(got);
      if (got->result_int() == 503) {
        r = got;
      } else {
        ++served;
        std::this_thread::sleep_for(10ms);  // the holder's header is not in yet
      }
    }
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(Std((*r)["Retry-After"]), "1");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(nlohmann::json::parse(r->body())["Errors"].is_array());
  EXPECT_EQ(calls, served);  // the refused request never reached the handler
  // Completing the held body gives its bytes back.
  ASSERT_TRUE(holder->Send(std::string(77, 'x')));
  ASSERT_TRUE(holder->Read());
  TestClient third(port());
  ASSERT_TRUE(third.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 30\r\n\r\n" +
                         std::string(30, 'y')));
  r = third.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
}

TEST_F(ServerTest, ProbeAnswersWhileEveryHandlerAndStreamThreadIsBusy) {
  // Bug: handlers (uploads included) ran on the I/O threads, so 8 slow uploads stopped ping.
  options_.threads = 1;
  options_.handler_threads = 1;
  options_.max_streams = 1;
  Gate gate;
  router_->Add("GET", "/slow", gate.Blocking());
  router_->Add("PUT", "/upload", gate.Blocking(), {.stream_body = true});
  router_->Add("GET", "/probe",
               [](Request&) {
                 return Response::Json(200, {{"ok", true}});
               },
               {.max_body_bytes = std::nullopt, .stream_body = false, .admit = {}, .probe = true});
  Start();
  TestClient slow(port());
  TestClient upload(port());
  ASSERT_TRUE(slow.Send(Get("/slow")));
  ASSERT_TRUE(upload.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"));
  ASSERT_TRUE(gate.WaitEntered(2));
  TestClient probe(port());
  ASSERT_TRUE(probe.Send(Get("/probe")));
  auto r = probe.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  // The stream pool is full: another upload is told to come back.
  TestClient second(port());
  ASSERT_TRUE(second.Send("PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"));
  r = second.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503);
  EXPECT_EQ(Std((*r)["Retry-After"]), "1");
  gate.release.set_value();
  ASSERT_TRUE(slow.Read());
}

TEST_F(ServerTest, FullNodeShedsTheLongestWaitingConnection) {
  // Bug: connections were unlimited; a cap must not lock clients out behind idle sockets.
  options_.max_connections = 2;
  Start();
  // Accepted in connection order, so `oldest` has waited longest for a request header.
  TestClient oldest(port());
  TestClient younger(port());
  ASSERT_TRUE(oldest.connected() && younger.connected());
  TestClient newcomer(port());
  ASSERT_TRUE(newcomer.Send(Get("/api/ping")));
  auto r = newcomer.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_TRUE(oldest.WaitClosed(2s));
  ASSERT_TRUE(younger.Send(Get("/api/ping")));
  r = younger.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
}

TEST_F(ServerTest, FullNodeOfBusyConnectionsAnswersProbesAndRefusesTheRest) {
  options_.max_connections = 2;
  Gate gate;
  router_->Add("GET", "/slow", gate.Blocking());
  router_->Add("GET", "/probe", [](Request&) { return Response::Json(200, {}); },
               {.max_body_bytes = std::nullopt, .stream_body = false, .admit = {}, .probe = true});
  Start();
  TestClient a(port());
  TestClient b(port());
  ASSERT_TRUE(a.Send(Get("/slow")));
  ASSERT_TRUE(b.Send(Get("/slow")));
  ASSERT_TRUE(gate.WaitEntered(2));
  TestClient refused(port());
  ASSERT_TRUE(refused.Send(Get("/api/ping")));
  auto r = refused.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503);
  EXPECT_EQ(Std((*r)["Retry-After"]), "1");
  EXPECT_FALSE(r->keep_alive());
  TestClient probe(port());
  ASSERT_TRUE(probe.Send(Get("/probe")));
  r = probe.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  gate.release.set_value();
  ASSERT_TRUE(a.Read());
  ASSERT_TRUE(b.Read());
}

// --- Deferred responses (Response::Later) ---

// Holds every deferred a route hands out, for the test to complete.
struct Held {
  std::mutex mu;
  std::vector<std::shared_ptr<Deferred>> items;
  std::condition_variable cv;
  Handler Route() {
    return [this](Request&) {
      auto d = std::make_shared<Deferred>();
      {
        std::lock_guard lock(mu);
        items.push_back(d);
      }
      cv.notify_all();
      return Response::Later(d);
    };
  }
  std::shared_ptr<Deferred> Wait(size_t n) {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, 3s, [&] { return items.size() >= n; })) {
      return nullptr;
    }
    return items[n - 1];
  }
};

TEST_F(ServerTest, DeferredResponseHoldsNoHandlerThreadAndTheFirstCompleteWins) {
  options_.handler_threads = 1;
  Held held;
  router_->Add("GET", "/poll", held.Route());
  Start();
  TestClient poller(port());
  ASSERT_TRUE(poller.Send(Get("/poll")));
  auto d = held.Wait(1);
  ASSERT_TRUE(d);
  // The only handler thread is free while the poll is held.
  TestClient other(port());
  ASSERT_TRUE(other.Send(Get("/api/ping")));
  auto pinged = other.Read();
  ASSERT_TRUE(pinged);
  EXPECT_EQ(pinged->result_int(), 200);
  EXPECT_FALSE(poller.Readable(50ms));

  bool first = false;
  std::thread completer([&] {
    first = d->Complete(Response::Json(200, {{"Offers", 1}}).SetHeader("X-Test", "yes"));
  });
  completer.join();
  EXPECT_TRUE(first);
  EXPECT_FALSE(d->Complete(Response::Json(500, {})));
  auto r = poller.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->body(), R"({"Offers":1})");
  EXPECT_EQ(Std((*r)["X-Test"]), "yes");
  EXPECT_EQ(Std((*r)["Octopus-Node"]), "node-a");
  // The connection is kept alive for the next request.
  ASSERT_TRUE(poller.Send(Get("/api/ping")));
  auto again = poller.Read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result_int(), 200);
}

TEST_F(ServerTest, DeferredCompletedBeforeTheHandlerReturnsIsAnswered) {
  router_->Add("GET", "/now", [](Request&) {
    auto d = std::make_shared<Deferred>();
    d->Complete(Response(Response::Json(204, {})));
    return Response::Later(d);
  });
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/now")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 204);
}

TEST_F(ServerTest, ManyDeferredResponsesCompletedFromManyThreads) {
  Held held;
  router_->Add("GET", "/poll", held.Route());
  Start();
  constexpr int kClients = 50;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->Send(Get("/poll")));
  }
  ASSERT_TRUE(held.Wait(kClients));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kClients; i += 4) {
        held.items[i]->Complete(Response::Json(200, {{"i", i}}));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& c : clients) {
    auto r = c->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200);
  }
}

TEST_F(ServerTest, DeferredNobodyCompletesIs503AfterTheDeadline) {
  options_.deferred_timeout = 100ms;
  Held held;
  router_->Add("GET", "/poll", held.Route());
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/poll")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503);
  EXPECT_EQ(Std((*r)["Retry-After"]), "1");
  auto d = held.Wait(1);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->Complete(Response::Json(200, {})));
}

TEST_F(ServerTest, ShutdownAnswersHeldDeferredResponsesAt503WithRetryAfter) {
  Held held;
  router_->Add("GET", "/poll", held.Route());
  Start();
  TestClient c(port());
  ASSERT_TRUE(c.Send(Get("/poll")));
  auto d = held.Wait(1);
  ASSERT_TRUE(d);
  const auto start = SteadyClock::now();
  std::thread stopper([&] { server_->Shutdown(5s); });
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503);
  EXPECT_EQ(Std((*r)["Retry-After"]), "1");
  EXPECT_EQ(Std((*r)["Connection"]), "close");
  stopper.join();
  EXPECT_LT(SteadyClock::now() - start, 4s);  // at once, not after the 5 s grace
  // The holder's late answer goes nowhere and does no harm.
  EXPECT_FALSE(d->Complete(Response::Json(200, {})));
}

}  // namespace
}  // namespace cuttle::http
