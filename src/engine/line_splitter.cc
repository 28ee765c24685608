#include "engine/line_splitter.h"

#include <algorithm>

namespace cuttle::engine {

void LineSplitter::Feed(std::string_view data, const OnLine& on_line) {
  // Hands over a piece; `cut` when it ends at max_line_ bytes rather than at a newline.
  auto hand_over = [&](std::string_view piece, bool cut) {
    continues_ = in_line_;
    on_line(piece);
    in_line_ = cut;
    just_cut_ = cut;
  };
  while (!data.empty()) {
    // The '\n' that ends a line just cut at max_line_ bytes ends it: no empty line follows.
    if (just_cut_ && data.front() == '\n') {
      data.remove_prefix(1);
      in_line_ = false;
    }
    just_cut_ = false;
    if (data.empty()) break;
    // Only the new bytes are searched: pending_ holds no '\n'.
    size_t room = max_line_ - pending_.size();
    size_t nl = data.substr(0, room).find('\n');
    if (nl != std::string_view::npos) {
      std::string_view rest = data.substr(0, nl);
      if (pending_.empty()) {
        hand_over(rest, false);
      } else {
        pending_.append(rest);
        hand_over(pending_, false);
        pending_.clear();
      }
      data.remove_prefix(nl + 1);
      continue;
    }
    size_t take = std::min(room, data.size());
    if (take == room) {
      // A full piece: hand it over without keeping it.
      if (pending_.empty()) {
        hand_over(data.substr(0, take), true);
      } else {
        pending_.append(data.substr(0, take));
        hand_over(pending_, true);
        pending_.clear();
      }
    } else {
      pending_.append(data.substr(0, take));
    }
    data.remove_prefix(take);
  }
}

void LineSplitter::Flush(const OnLine& on_line) {
  if (!pending_.empty()) {
    continues_ = in_line_;
    on_line(pending_);
  }
  pending_.clear();
  just_cut_ = false;
  in_line_ = false;
}

}  // namespace cuttle::engine
