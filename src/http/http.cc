#include "http/http.h"

#include <algorithm>
#include <cctype>

#include "core/strings.h"

namespace cuttle::http {

bool LessIgnoreCase::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::optional<std::string> Request::Header(std::string_view name) const {
  auto it = headers.find(name);
  if (it == headers.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) {
    return std::nullopt;
  }
  return it->second;
}

const std::string& Request::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

bool IfNoneMatch(std::string_view header, std::string_view etag) {
  for (const auto& part : core::Split(header, ',')) {
    std::string_view tag = core::Trim(part);
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);
    }
    if (tag == "*" || tag == etag) {
      return true;
    }
  }
  return false;
}

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  // Replace invalid UTF-8 rather than throw: no exception may leave the module.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

Response Response::Error(int status, std::string_view message, std::vector<std::string> details) {
  nlohmann::json errors = nlohmann::json::array();
  for (auto& d : details) {
    errors.push_back(std::move(d));
  }
  return Json(status, {{"ErrorMessage", message}, {"Errors", std::move(errors)}});
}

Response Response::FromError(const cuttle::Error& error) {
  // A server fault's message names files, hosts and statements: the log gets it, the client a
  // reference to it (ClientMessage).
  if (IsServerFault(error.code())) return Error(StatusFor(error.code()), ClientMessage(error));
  return Error(StatusFor(error.code()), error.message(), error.details());
}

int Response::StatusFor(cuttle::ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

Response Response::Later(std::shared_ptr<Deferred> deferred) {
  Response r;
  r.later = std::move(deferred);
  return r;
}

bool Deferred::Complete(Response response) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (response_ || taken_) {
      return false;
    }
    response.later.reset();  // a deferred answer cannot itself be deferred
    response_ = std::move(response);
    wake = std::move(wake_);
  }
  if (wake) {
    wake();
  }
  return true;
}

bool Deferred::done() const {
  std::lock_guard lock(mu_);
  return response_.has_value() || taken_;
}

bool Deferred::Watch(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (response_ || taken_) {
    return false;
  }
  wake_ = std::move(wake);
  return true;
}

Response Deferred::Take() {
  std::lock_guard lock(mu_);
  if (!response_) {
    return Response::Error(500, "An unexpected error occurred on the server.");
  }
  Response r = std::move(*response_);
  response_.reset();
  taken_ = true;
  wake_ = nullptr;
  return r;
}

Response& Response::SetHeader(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (core::EqualsIgnoreCase(n, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

namespace {
void ParseQuery(std::string_view raw, Request& req) {
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string_view::npos) {
      end = raw.size();
    }
    std::string_view pair = raw.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    std::string key = core::UrlDecode(pair.substr(0, eq), true);
    if (key.empty()) {
      continue;
    }
    std::string value =
        eq == std::string_view::npos ? std::string() : core::UrlDecode(pair.substr(eq + 1), true);
    req.query.emplace(std::move(key), std::move(value));  // the first value wins
  }
}

}  // namespace

void ParseTarget(Request& req) {
  std::string_view t = req.target;
  // Absolute form ("http://host/path"), as sent to proxies.
  if (t.starts_with("http://") || t.starts_with("https://")) {
    size_t slash = t.find('/', t.find("//") + 2);
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  size_t q = t.find('?');
  req.path = core::UrlDecode(t.substr(0, q), false);
  if (q != std::string_view::npos) {
    req.raw_query = std::string(t.substr(q + 1));
    ParseQuery(req.raw_query, req);
  }
}

}  // namespace cuttle::http
