#include <string_view>

#include "core/strings.h"
#include "http/http.h"

namespace cuttle::http {
namespace {

bool IsCapture(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "{*name}": captures the rest of the path (zero or more segments); only as a pattern's last.
bool IsTail(std::string_view segment) { return IsCapture(segment) && segment[1] == '*'; }

bool HasTail(const std::vector<std::string>& segments) {
  return !segments.empty() && IsTail(segments.back());
}

// Splits on '/', dropping empty segments, so "/api/" and "/api" and "//api" are the same path.
template <class Out>
void SplitPath(std::string_view path, Out& out) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > start) {
      out.push_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
}

// Negative when route `a` is more specific than `b`: at the first position where one has a
// literal and the other a capture, the literal wins.
int CompareSpecificity(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bool ca = IsCapture(a[i]);
    bool cb = IsCapture(b[i]);
    if (ca != cb) {
      return ca ? 1 : -1;
    }
  }
  // A route of fixed length beats a tail capture that matched as far.
  if (HasTail(a) != HasTail(b)) {
    return HasTail(a) ? 1 : -1;
  }
  return 0;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, Options options) {
  Entry entry{std::move(method), {}, std::move(handler), options};
  std::vector<std::string_view> parts;
  SplitPath(pattern, parts);
  entry.segments.assign(parts.begin(), parts.end());
  routes_.push_back(std::move(entry));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> segments;
  segments.reserve(8);
  SplitPath(path, segments);

  const Entry* best = nullptr;
  bool best_exact_method = false;
  bool path_matched = false;
  for (const Entry& route : routes_) {
    const bool tail = HasTail(route.segments);
    const size_t fixed = route.segments.size() - (tail ? 1 : 0);
    if (tail ? segments.size() < fixed : segments.size() != fixed) {
      continue;
    }
    bool ok = true;
    for (size_t i = 0; i < fixed && ok; ++i) {
      const std::string& s = route.segments[i];
      ok = IsCapture(s) || core::EqualsIgnoreCase(s, segments[i]);
    }
    if (!ok) {
      continue;
    }
    path_matched = true;
    bool exact_method = route.method == method;
    // HEAD is served by GET routes (the server omits the body).
    if (!exact_method && !(method == "HEAD" && route.method == "GET")) {
      continue;
    }
    int cmp = best == nullptr ? -1 : CompareSpecificity(route.segments, best->segments);
    if (cmp < 0 || (cmp == 0 && exact_method && !best_exact_method)) {
      best = &route;
      best_exact_method = exact_method;
    }
  }

  Match match;
  if (best == nullptr) {
    match.status = path_matched ? 405 : 404;
    return match;
  }
  match.handler = &best->handler;
  match.status = 200;
  match.options = best->options;
  for (size_t i = 0; i < best->segments.size(); ++i) {
    const std::string& s = best->segments[i];
    if (IsTail(s)) {
      std::string rest;
      for (size_t j = i; j < segments.size(); ++j) {
        if (j > i) rest += '/';
        rest += segments[j];
      }
      match.params.emplace(s.substr(2, s.size() - 3), std::move(rest));
    } else if (IsCapture(s)) {
      match.params.emplace(s.substr(1, s.size() - 2), segments[i]);
    }
  }
  return match;
}

}  // namespace cuttle::http
