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
  return Error(StatusFor(error.code()), error.message());
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

}  // namespace cuttle::http
