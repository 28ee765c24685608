#include "tasks/line_splitter.h"

#include <algorithm>

namespace cuttle::tasks {

void LineSplitter::Feed(std::string_view data, const OnLine& on_line) {
  while (!data.empty()) {
    // The '\n' that ends a line just cut at max_line_ bytes ends it: no empty line follows.
    if (just_cut_ && data.front() == '\n') data.remove_prefix(1);
    just_cut_ = false;
    if (data.empty()) break;
    // Only the new bytes are searched: pending_ holds no '\n'.
    size_t room = max_line_ - pending_.size();
    size_t nl = data.substr(0, room).find('\n');
    if (nl != std::string_view::npos) {
      std::string_view rest = data.substr(0, nl);
      if (pending_.empty()) {
        on_line(rest);
      } else {
        pending_.append(rest);
        on_line(pending_);
        pending_.clear();
      }
      data.remove_prefix(nl + 1);
      continue;
    }
    size_t take = std::min(room, data.size());
    if (take == room) {
      // A full piece: hand it over without keeping it.
      if (pending_.empty()) {
        on_line(data.substr(0, take));
      } else {
        pending_.append(data.substr(0, take));
        on_line(pending_);
        pending_.clear();
      }
      just_cut_ = true;
    } else {
      pending_.append(data.substr(0, take));
    }
    data.remove_prefix(take);
  }
}

void LineSplitter::Flush(const OnLine& on_line) {
  if (!pending_.empty()) on_line(pending_);
  pending_.clear();
  just_cut_ = false;
}

}  // namespace cuttle::tasks
