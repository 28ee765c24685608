#include "agent/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cctype>

#include "core/json.h"

namespace cuttle::agent {

namespace {

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  bool headers_told = false;
  bool aborted = false;
  CURL* curl;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a 100 Continue or a redirect's headers came first
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    t->response->headers[name] = std::string(value);
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t->request->on_body) {
    t->response->body.append(data, n);
    return n;
  }
  if (!t->headers_told) {
    t->headers_told = true;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->request->on_headers && !t->request->on_headers(status, t->response->headers)) {
      t->aborted = true;
      return 0;
    }
  }
  if (!t->request->on_body(std::string_view(data, n))) {
    t->aborted = true;
    return 0;
  }
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->on_progress && !t->request->on_progress()) {
    t->aborted = true;
    return 1;
  }
  return 0;
}

}  // namespace

void GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }

std::string HttpResponse::ErrorMessage() const {
  auto json = core::ParseJson(body);
  if (json && json->is_object()) {
    std::string m = core::StringMember(*json, "ErrorMessage");
    if (!m.empty()) return m;
  }
  std::string first = body.substr(0, body.find('\n'));
  if (first.size() > 200) first.resize(200);
  return first.empty() ? fmt::format("HTTP {}", status) : first;
}

Result<std::pair<std::string, std::string>> SplitServerUrl(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos ||
      (url.substr(0, scheme) != "http" && url.substr(0, scheme) != "https") ||
      url.size() == scheme + 3) {
    return Fail(Error::InvalidArgument(
        fmt::format("the server URL '{}' is not http(s)://host[:port][/path]", url)));
  }
  size_t slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) return std::pair{std::string(url), std::string()};
  return std::pair{std::string(url.substr(0, slash)), std::string(url.substr(slash))};
}

HttpClient::HttpClient(std::string base_url) {
  auto split = SplitServerUrl(base_url);
  if (split) {
    origin_ = split->first;
    path_prefix_ = split->second;
  } else {
    origin_ = base_url;
  }
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Fail(Error(ErrorCode::kInternal, "libcurl did not initialise"));
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer t{&request, &response, false, false, curl};
  const std::string url = origin_ + request.target;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count() * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "cuttle-agent/" CUTTLE_VERSION);
  if (request.on_progress) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc != CURLE_OK) {
    if (t.aborted) {
      return Fail(Error(ErrorCode::kIo, fmt::format("{} {}: the transfer was stopped",
                                                    request.method, request.target)));
    }
    return Fail(Error(ErrorCode::kUnavailable,
                      fmt::format("{} {}: {}", request.method, url, curl_easy_strerror(rc))));
  }
  if (request.on_body && !t.headers_told && request.on_headers) {
    // An empty body: the headers were never told through OnBody.
    request.on_headers(response.status, response.headers);
  }
  return response;
}

SignedClient::SignedClient(std::string base_url, std::string machine_id, agentwire::KeyPair key,
                           const core::Clock& clock)
    : http_(std::move(base_url)),
      machine_id_(std::move(machine_id)),
      key_(std::move(key)),
      clock_(clock) {}

Result<HttpResponse> SignedClient::Call(std::string_view method, std::string_view path,
                                        std::string_view body, std::vector<std::string> headers,
                                        std::chrono::seconds timeout) {
  HttpRequest r;
  r.method = std::string(method);
  r.body = std::string(body);
  r.headers = std::move(headers);
  r.timeout = timeout;
  return Call(path, std::move(r));
}

Result<HttpResponse> SignedClient::Call(std::string_view path, HttpRequest request) {
  request.target = http_.path_prefix() + std::string(agentwire::kApiPrefix) + std::string(path);
  const int64_t now = core::ToUnixMillis(clock_.Now());
  request.headers.push_back("Authorization: " +
                            agentwire::AuthorizationHeader(machine_id_, key_, request.method,
                                                           request.target, now, request.body));
  if (!request.body.empty()) request.headers.emplace_back("Content-Type: application/json");
  request.headers.emplace_back("Accept: application/json");
  return http_.Send(request);
}

bool IsNotRegistered(const HttpResponse& r) {
  return r.status == 401 &&
         r.ErrorMessage().find("is not registered with this server") != std::string::npos;
}

}  // namespace cuttle::agent
