// The dashboard's incremental build (api/dashboard.h DashboardParts): splicing changed cells into
// the last body gives the body a full build of the same cells, in the same order, would give.
#include <fmt/format.h>
#include <gtest/gtest.h>

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

// Random rounds of changes against a model of the cells, each body checked against a full build.
TEST(DashboardPartsTest, AnySequenceOfSplicesEqualsAFullBuild) {
  std::mt19937 rng(20261202);
  std::vector<std::pair<std::string, std::string>> cells;  // the model, in body order
  for (int i = 0; i < 50; ++i) cells.emplace_back(fmt::format("P{}", i), fmt::format("{{{}}}", i));
  DashboardParts parts;
  BuildFull(parts, cells, 1);
  for (int round = 0; round < 200; ++round) {
    std::map<std::string, std::string> changes;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) {
      const size_t pick = rng() % (cells.size() + 3);
      const std::string key =
          pick < cells.size() ? cells[pick].first : fmt::format("New{}-{}", round, k);
      changes[key] = fmt::format("{{{}{}}}", std::string(rng() % 20, 'x'), round);
    }
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
      if (!found) cells.emplace_back(key, json);
    }
    // New cells go last in the order the splice met them: the model's order above is the map's
    // (sorted) order, which is the order `list` hands them over.
    auto body = parts.Splice(std::move(list), round + 2);
    ASSERT_EQ(*body, Expected(cells)) << "round " << round;
  }
}

}  // namespace
}  // namespace cuttle::api
