// LineSplitter: cuts a byte stream (a script's stdout or stderr) into lines. A line longer than
// max_line bytes is cut into pieces of max_line bytes, so one endless line costs bounded memory;
// each byte is scanned once, when it arrives, so a long line costs linear time. Bytes are never
// dropped or changed: a newline right after a cut piece only ends the line (no empty line
// follows), so the pieces and lines are the stream without its newlines.
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace cuttle::engine {

class LineSplitter {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;
  using OnLine = std::function<void(std::string_view)>;

  explicit LineSplitter(size_t max_line = kMaxLine) : max_line_(max_line) {}

  // Calls on_line for each line completed by `data` (without its '\n'), and for each piece of
  // max_line bytes of a line that is longer.
  void Feed(std::string_view data, const OnLine& on_line);
  // Calls on_line with the partial last line, if any (the stream has ended).
  void Flush(const OnLine& on_line);

  size_t pending() const { return pending_.size(); }
  // Inside on_line: true when the piece handed over continues the line of the piece before it
  // (that one was cut at max_line bytes), false when it starts a line.
  bool continues_line() const { return continues_; }

 private:
  size_t max_line_;
  std::string pending_;     // the current line's bytes so far; never longer than max_line_
  bool just_cut_ = false;   // the last piece handed over was cut at max_line_ bytes
  bool in_line_ = false;    // the current line has had pieces handed over already
  bool continues_ = false;  // see continues_line()
};

}  // namespace cuttle::engine
