// One HTTP/1.1 request on a fresh loopback connection, for tests that drive a node through its
// HTTP interface (the agent protocol's and the users API's suites).
#pragma once

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "http/http.h"

namespace cuttle::testing {

struct HttpReply {
  int status = 0;  // 0: the exchange failed
  std::string body;
  std::multimap<std::string, std::string, http::LessIgnoreCase> headers;

  nlohmann::json Json() const {
    auto j = core::ParseJson(body);
    return j ? *j : nlohmann::json();
  }
  // The Octopus error shape's message.
  std::string Message() const { return Json().value("ErrorMessage", ""); }
  // The first value of a header, or "".
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  // Every value of a header (Set-Cookie), in the order sent.
  std::vector<std::string> Headers(const std::string& name) const {
    std::vector<std::string> out;
    auto [from, to] = headers.equal_range(name);
    for (auto it = from; it != to; ++it) out.push_back(it->second);
    return out;
  }
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// A JSON body gets `Content-Type: application/json` unless `extra` names one. A reply is awaited
// for at most 40 s (a held long poll is 25 s at most).
inline HttpReply HttpSend(uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body, const HttpHeaders& extra) {
  namespace asio = boost::asio;
  namespace bhttp = boost::beast::http;
  HttpReply reply;
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{.tv_sec = 40, .tv_usec = 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "test");
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    for (const auto& [k, v] : extra) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket, req);
    boost::beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bhttp::read(socket, buffer, parser);
    auto& res = parser.get();
    reply.status = res.result_int();
    reply.body = res.body();
    for (const auto& f : res) {
      reply.headers.emplace(std::string(f.name_string()), std::string(f.value()));
    }
  } catch (const std::exception&) {
    reply = HttpReply{};
  }
  return reply;
}

}  // namespace cuttle::testing
