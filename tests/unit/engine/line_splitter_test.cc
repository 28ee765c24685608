// Bug (issue 9 #6): the line splitter kept a partial line without limit and rescanned all of it on
// every read, so one 300 MB line cost quadratic CPU and 300 MB of memory.
#include "engine/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cuttle::engine {
namespace {

std::vector<std::string> Split(const std::vector<std::string>& chunks, size_t max_line) {
  LineSplitter s(max_line);
  std::vector<std::string> out;
  LineSplitter::OnLine collect = [&](std::string_view l) { out.emplace_back(l); };
  for (const auto& c : chunks) s.Feed(c, collect);
  s.Flush(collect);
  return out;
}

TEST(LineSplitterTest, A300MegabyteLineComesOutInBoundedPiecesWithEveryByteKept) {
  // Fed as a pipe delivers it: 16 KiB reads of one line with no newline until the very end.
  std::string chunk(16 * 1024, '\0');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>('a' + i % 26);
  const size_t kChunks = 300 * 1024 * 1024 / chunk.size();
  LineSplitter s;
  size_t pieces = 0, bytes = 0, largest = 0, most_pending = 0;
  uint64_t sum_in = 0, sum_out = 0;
  LineSplitter::OnLine on_line = [&](std::string_view l) {
    ++pieces;
    bytes += l.size();
    largest = std::max(largest, l.size());
    for (unsigned char c : l) sum_out = sum_out * 31 + c;
  };
  for (size_t i = 0; i < kChunks; ++i) {
    for (unsigned char c : chunk) sum_in = sum_in * 31 + c;
    s.Feed(chunk, on_line);
    most_pending = std::max(most_pending, s.pending());
  }
  s.Feed("\n", on_line);
  EXPECT_EQ(bytes, kChunks * chunk.size());
  EXPECT_EQ(sum_out, sum_in) << "the bytes come out as they went in, in order";
  EXPECT_EQ(largest, LineSplitter::kMaxLine);
  EXPECT_LT(most_pending, LineSplitter::kMaxLine);
  EXPECT_EQ(pieces, bytes / LineSplitter::kMaxLine) << "the final newline adds no empty line";
  EXPECT_EQ(s.pending(), 0u);
}

TEST(LineSplitterTest, SplitsLinesAcrossReads) {
  EXPECT_EQ(Split({"he", "llo\nwor", "ld\n\nlast"}, 64),
            (std::vector<std::string>{"hello", "world", "", "last"}));
  EXPECT_EQ(Split({"a\nb\n"}, 64), (std::vector<std::string>{"a", "b"}));
}

TEST(LineSplitterTest, CutsLongLinesAtTheLimit) {
  EXPECT_EQ(Split({"abcdefg\nxy"}, 3), (std::vector<std::string>{"abc", "def", "g", "xy"}));
  // A line of exactly the limit: its newline only ends it.
  EXPECT_EQ(Split({"abc", "\n", "d\n"}, 3), (std::vector<std::string>{"abc", "d"}));
  EXPECT_EQ(Split({"ab", "cd", "ef", "\n"}, 3), (std::vector<std::string>{"abc", "def"}));
  // A genuinely empty line after a full one is kept.
  EXPECT_EQ(Split({"abc\n\nx"}, 3), (std::vector<std::string>{"abc", "", "x"}));
}

// Each piece with whether it continues the line of the piece before it.
std::vector<std::pair<std::string, bool>> Pieces(const std::vector<std::string>& chunks,
                                                 size_t max_line) {
  LineSplitter s(max_line);
  std::vector<std::pair<std::string, bool>> out;
  LineSplitter::OnLine collect = [&](std::string_view l) {
    out.emplace_back(std::string(l), s.continues_line());
  };
  for (const auto& c : chunks) s.Feed(c, collect);
  s.Flush(collect);
  return out;
}

TEST(LineSplitterTest, SaysWhichPiecesContinueACutLine) {
  using P = std::vector<std::pair<std::string, bool>>;
  EXPECT_EQ(Pieces({"abcdefg\nxy"}, 3),
            (P{{"abc", false}, {"def", true}, {"g", true}, {"xy", false}}));
  // A cut exactly at the newline ends the line: the next piece starts one.
  EXPECT_EQ(Pieces({"abc", "\n", "de"}, 3), (P{{"abc", false}, {"de", false}}));
  // The rest of a cut line may arrive over several reads, and at the end of the stream.
  EXPECT_EQ(Pieces({"abcd", "e", "\nfghij"}, 3),
            (P{{"abc", false}, {"de", true}, {"fgh", false}, {"ij", true}}));
  EXPECT_EQ(Pieces({"ab\n", "cd"}, 3), (P{{"ab", false}, {"cd", false}}));
}

}  // namespace
}  // namespace cuttle::engine
