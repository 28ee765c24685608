// The dashboard's incremental build (api/dashboard.h DashboardParts): splicing changed cells into
// the last body gives the body a full build of the same cells, in the same order, would give.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "api/dashboard.h"

namespace cuttle::api {
namespace {

constexpr const char* kHead = "{\"Items\":[";
constexpr const char* kTail = "],\"Links\":{}}";

// What a full build of `cells` (in order) writes.
std::string Expected(const std::vector<std::pair<std::string, std::string>>& cells) {
  std::string out = kHead;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    out += cells[i].second;
  }
  return out + kTail;
}

void BuildFull(DashboardParts& parts, const std::vector<std::pair<std::string, std::string>>& cells,
               int64_t version) {
  parts.Start(kHead);
  for (const auto& [key, json] : cells) {
    parts.OpenCell(key) += json;
    parts.CloseCell();
  }
  auto body = parts.Finish(kTail, version);
  EXPECT_EQ(*body, Expected(cells));
  EXPECT_EQ(parts.version(), version);
}

TEST(DashboardPartsTest, SplicesChangedCellsInPlaceAndNewOnesLast) {
  DashboardParts parts;
  BuildFull(parts, {{"P1\nE1", "{a}"}, {"P1\nE2", "{b}"}, {"P2\nE1", "{c}"}, {"P2\nE2", "{d}"}}, 5);
  auto body = parts.Splice({{"P1\nE2", "{b-longer}"}, {"P3\nE1", "{e}"}, {"P2\nE2", "{}"}}, 7);
  EXPECT_EQ(*body, std::string(kHead) + "{a},{b-longer},{c},{},{e}" + kTail);
  EXPECT_EQ(parts.version(), 7);
  body = parts.Splice({{"P1\nE1", "{a2}"}}, 8);
  EXPECT_EQ(*body, std::string(kHead) + "{a2},{b-longer},{c},{},{e}" + kTail) << "the first";
  body = parts.Splice({{"P3\nE1", "{e2}"}}, 9);
  EXPECT_EQ(*body, std::string(kHead) + "{a2},{b-longer},{c},{},{e2}" + kTail) << "the last";
  body = parts.Splice({}, 10);
  EXPECT_EQ(*body, std::string(kHead) + "{a2},{b-longer},{c},{},{e2}" + kTail) << "none";
}

TEST(DashboardPartsTest, SplicingIntoAnEmptyDashboardAddsCells) {
  DashboardParts parts;
  BuildFull(parts, {}, 1);
  auto body = parts.Splice({{"P1\nE1", "{a}"}, {"P1\nE2", "{b}"}}, 2);
  EXPECT_EQ(*body, std::string(kHead) + "{a},{b}" + kTail);
}

TEST(DashboardPartsTest, ARebuildTakesANewHeadAndKeepsTheTextOfUnchangedCells) {
  DashboardParts parts;
  BuildFull(parts, {{"A", "{a}"}, {"B", "{b}"}, {"C", "{c}"}, {"D", "{d}"}}, 3);
  // C was deleted, D changed, E is new; F was written after the keys were read.
  auto body = parts.Rebuild("{\"Projects\":[2],\"Items\":[", {"B", "D", "A", "E"},
                            {{"D", "{d2}"}, {"E", "{e}"}, {"F", "{f}"}}, "],\"Tail\":2}", 6);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, "{\"Projects\":[2],\"Items\":[{b},{d2},{a},{e},{f}],\"Tail\":2}");
  EXPECT_EQ(parts.version(), 6);
  // Splices work on the rebuilt body.
  body = parts.Splice({{"A", "{a3}"}, {"G", "{g}"}}, 7);
  EXPECT_EQ(*body, "{\"Projects\":[2],\"Items\":[{b},{d2},{a3},{e},{f},{g}],\"Tail\":2}");
}

TEST(DashboardPartsTest, ARebuildNamingACellItNeverHadGivesWay) {
  DashboardParts parts;
  BuildFull(parts, {{"A", "{a}"}}, 3);
  EXPECT_EQ(parts.Rebuild("H[", {"A", "Z"}, {}, "]", 4), nullptr) << "Z's text is nowhere";
  EXPECT_EQ(parts.version(), 3) << "left as it was";
  EXPECT_EQ(*parts.Splice({}, 5), std::string(kHead) + "{a}" + kTail);
  DashboardParts empty;
  EXPECT_EQ(empty.Rebuild("H[", {}, {}, "]", 1), nullptr) << "nothing built yet";
}

// Random rounds of changes against a model of the cells, each body checked against a full build:
// mostly splices, every fifth round a rebuild that also drops cells and reorders the rest.
TEST(DashboardPartsTest, AnySequenceOfSplicesAndRebuildsEqualsAFullBuild) {
  std::mt19937 rng(20261202);
  std::vector<std::pair<std::string, std::string>> cells;  // the model, in body order
  for (int i = 0; i < 50; ++i) cells.emplace_back(fmt::format("P{}", i), fmt::format("{{{}}}", i));
  DashboardParts parts;
  BuildFull(parts, cells, 1);
  for (int round = 0; round < 300; ++round) {
    const bool rebuild = round % 5 == 4;
    if (rebuild) {
      // Some cells deleted, the others in a new order.
      std::erase_if(cells, [&](const auto&) { return rng() % 8 == 0; });
      std::shuffle(cells.begin(), cells.end(), rng);
    }
    std::map<std::string, std::string> changes;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) {
      const size_t pick = rng() % (cells.size() + 3);
      const std::string key =
          pick < cells.size() ? cells[pick].first : fmt::format("New{}-{}", round, k);
      changes[key] = fmt::format("{{{}{}}}", std::string(rng() % 20, 'x'), round);
    }
    std::vector<std::string> keys;
    for (const auto& c : cells) keys.push_back(c.first);
    std::vector<DashboardParts::Change> list;
    for (const auto& [key, json] : changes) {
      list.push_back({key, json});
      bool found = false;
      for (auto& c : cells) {
        if (c.first == key) {
          c.second = json;
          found = true;
        }
      }
      // New cells go last in the order they are handed over (the map's).
      if (!found) cells.emplace_back(key, json);
    }
    const int64_t version = round + 2;
    auto body = rebuild ? parts.Rebuild(kHead, keys, std::move(list), kTail, version)
                        : parts.Splice(std::move(list), version);
    ASSERT_TRUE(body) << "round " << round;
    ASSERT_EQ(*body, Expected(cells)) << "round " << round;
  }
}

}  // namespace
}  // namespace cuttle::api
