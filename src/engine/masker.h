// Masker: hides secret values in text. Every byte of the text that lies inside an occurrence of a
// masked value is hidden; each run of hidden bytes becomes one `********`. So a value that holds
// another is hidden whole (the longest match wins), two values that overlap in the text leave no
// byte of either behind ("abc" and "bcd" mask "abcd" as one `********`), and values side by side
// are one mask (the log does not tell how many there were).
//
// Values are found with one Aho-Corasick automaton over all of them: Apply costs time linear in
// the text (plus the matches), whatever the number of values. Adding a value rebuilds the
// automaton at the next Apply, so a value added while a script runs applies from then on.
//
// A value that is empty or only white space is not masked (it would hide every space of a log).
// A value of several lines is also masked line by line, since logs arrive one line at a time.
//
// Thread-compatible: one Masker per running step.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cuttle::engine {

class Masker {
 public:
  static constexpr std::string_view kMask = "********";

  // Masks `value` in every later Apply.
  void Add(std::string_view value);
  // `text` with every occurrence of every value replaced as described above.
  std::string Apply(std::string_view text);
  // The number of distinct strings searched for (values, and the lines of multi-line values).
  size_t size() const { return patterns_.size(); }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> next;  // sorted by byte
    int fail = 0;
    size_t longest = 0;  // the longest pattern that ends here (itself or through fail links)
  };
  int Child(int node, unsigned char c) const;
  void Build();

  std::set<std::string> patterns_;
  std::vector<Node> nodes_;
  bool built_ = false;
};

}  // namespace cuttle::engine
