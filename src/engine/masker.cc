#include "engine/masker.h"

#include <algorithm>
#include <deque>

#include "core/strings.h"

namespace cuttle::engine {

void Masker::Add(std::string_view value) {
  auto add_one = [&](std::string_view v) {
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    if (core::Trim(v).empty()) return;
    if (patterns_.emplace(v).second) built_ = false;
  };
  add_one(value);
  if (value.find('\n') == std::string_view::npos) return;
  size_t start = 0;
  while (start <= value.size()) {
    size_t nl = value.find('\n', start);
    if (nl == std::string_view::npos) nl = value.size();
    add_one(value.substr(start, nl - start));
    start = nl + 1;
  }
}

int Masker::Child(int node, unsigned char c) const {
  const auto& next = nodes_[node].next;
  auto it = std::lower_bound(next.begin(), next.end(), c,
                             [](const auto& edge, unsigned char b) { return edge.first < b; });
  return it != next.end() && it->first == c ? it->second : -1;
}

void Masker::Build() {
  nodes_.assign(1, Node{});
  for (const std::string& p : patterns_) {
    int node = 0;
    for (char ch : p) {
      auto c = static_cast<unsigned char>(ch);
      int child = Child(node, c);
      if (child < 0) {
        child = static_cast<int>(nodes_.size());
        nodes_.push_back(Node{});  // may move nodes_: `next` is looked up again below
        auto& next = nodes_[node].next;
        auto at =
            std::lower_bound(next.begin(), next.end(), c,
                             [](const auto& edge, unsigned char b) { return edge.first < b; });
        next.insert(at, {c, child});
      }
      node = child;
    }
    nodes_[node].longest = p.size();
  }
  // Breadth first, so a node's fail link (a shallower node) is complete before the node's own.
  std::deque<int> queue;
  for (auto [c, child] : nodes_[0].next) queue.push_back(child);
  while (!queue.empty()) {
    int node = queue.front();
    queue.pop_front();
    for (auto [c, child] : nodes_[node].next) {
      int f = nodes_[node].fail;
      while (f != 0 && Child(f, c) < 0) f = nodes_[f].fail;
      int target = Child(f, c);
      nodes_[child].fail = target >= 0 && target != child ? target : 0;
      nodes_[child].longest = std::max(nodes_[child].longest, nodes_[nodes_[child].fail].longest);
      queue.push_back(child);
    }
  }
  built_ = true;
}

std::string Masker::Apply(std::string_view text) {
  if (patterns_.empty()) return std::string(text);
  if (!built_) Build();
  // Hidden byte ranges [first, second), sorted and disjoint. Matches arrive by end position; the
  // longest one ending at a position covers every other ending there.
  std::vector<std::pair<size_t, size_t>> hidden;
  int node = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    int next;
    while ((next = Child(node, c)) < 0 && node != 0) node = nodes_[node].fail;
    node = next < 0 ? 0 : next;
    size_t len = nodes_[node].longest;
    if (len == 0) continue;
    size_t start = i + 1 - len;
    while (!hidden.empty() && start <= hidden.back().second) {
      start = std::min(start, hidden.back().first);
      hidden.pop_back();
    }
    hidden.emplace_back(start, i + 1);
  }
  if (hidden.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (auto [first, last] : hidden) {
    out.append(text.substr(at, first - at));
    out.append(kMask);
    at = last;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace cuttle::engine
