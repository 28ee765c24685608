// The agent's HTTP client (libcurl): one request at a time per HttpClient, a connection kept
// between requests. SignedClient adds the agent's Authorization header (docs/agent.md,
// "Identity and authentication") over the exact method, path and query, and body it sends.
// Thread-compatible: one HttpClient per thread (call GlobalInit once before any thread starts).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agentwire/wire.h"
#include "core/clock.h"
#include "core/error.h"

namespace cuttle::agent {

void GlobalInit();

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path and query, as sent (the base URL's path prefix included)
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::seconds timeout{30};
  // Downloads: told the status and headers once they arrive, then handed the body in pieces
  // instead of keeping it in `HttpResponse::body`. A false answer aborts the transfer.
  std::function<bool(long status, const std::map<std::string, std::string>& headers)> on_headers;
  std::function<bool(std::string_view data)> on_body;
  // Called about once a second during the transfer; false aborts it (kUnavailable).
  std::function<bool()> on_progress;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  // The Octopus error shape's ErrorMessage, or the body's first line.
  std::string ErrorMessage() const;
};

class HttpClient {
 public:
  // `base_url`: scheme://host[:port][/path prefix], without a trailing '/'.
  explicit HttpClient(std::string base_url);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // kUnavailable when no response came (connection refused, timeout, reset).
  Result<HttpResponse> Send(const HttpRequest& request);
  // The base URL's path ("" or "/prefix"): targets start with it.
  const std::string& path_prefix() const { return path_prefix_; }

 private:
  std::string origin_;       // scheme://host[:port]
  std::string path_prefix_;  // "" or "/something"
  void* curl_ = nullptr;
};

// Splits a server URL into origin and path prefix; kInvalidArgument if it is not http(s)://...
Result<std::pair<std::string, std::string>> SplitServerUrl(std::string_view url);

class SignedClient {
 public:
  SignedClient(std::string base_url, std::string machine_id, agentwire::KeyPair key,
               const core::Clock& clock = core::SystemClock::Instance());

  // `path` is under /api/agent/v1 (e.g. "/poll?wait=25"). Adds Authorization, Content-Type for a
  // body, and `headers`.
  Result<HttpResponse> Call(std::string_view method, std::string_view path,
                            std::string_view body = {}, std::vector<std::string> headers = {},
                            std::chrono::seconds timeout = std::chrono::seconds(30));
  // The same, for a prepared request (downloads): target is set from `path`.
  Result<HttpResponse> Call(std::string_view path, HttpRequest request);

  const std::string& machine_id() const { return machine_id_; }

 private:
  HttpClient http_;
  std::string machine_id_;
  agentwire::KeyPair key_;
  const core::Clock& clock_;
};

// A 401 saying the agent is not registered (revoked): the agent exits with status 3.
bool IsNotRegistered(const HttpResponse& r);

}  // namespace cuttle::agent
