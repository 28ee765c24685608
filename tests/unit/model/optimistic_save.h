// The optimistic saves of processes and variable sets, run on either backend: of two saves made
// from the same version exactly one wins, and the loser changes nothing.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "db/database.h"
#include "repo/processes.h"
#include "repo/variable_sets.h"

namespace cuttle::testing {

inline void ExpectOneOfTwoProcessSavesWins(db::Database& db) {
  using nlohmann::json;
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    return repo::InsertProcess(tx, {"deploymentprocess-Projects-1", "Spaces-1", "Projects-1",
                                    repo::kDeploymentProcess, 0, std::nullopt, json::array()});
  }));
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> wins{0}, refusals{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        auto r = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
          repo::ProcessRow p{"deploymentprocess-Projects-1",
                             "Spaces-1",
                             "Projects-1",
                             repo::kDeploymentProcess,
                             0,
                             std::nullopt,
                             json::array({{{"Name", "writer " + std::to_string(w)}}})};
          CUTTLE_TRY(auto v, repo::UpdateProcess(tx, p, round));
          (v ? wins : refusals)++;
          return {};
        });
        ASSERT_TRUE(r) << r.error().message();
      });
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(refusals.load(), 1) << "round " << round;
    auto stored = repo::FindProcess(db, "Spaces-1", "deploymentprocess-Projects-1");
    ASSERT_TRUE(stored && *stored);
    EXPECT_EQ((*stored)->version, round + 1);
  }
}

inline void ExpectStaleVariableSetSaveChangesNothing(db::Database& db) {
  using nlohmann::json;
  repo::VariableSetRow set{"variableset-Projects-1", "Spaces-1", "Projects-1", 0,
                           json::array({{{"Name", "A"}}})};
  ASSERT_TRUE(db.InTransaction(
      [&](db::Transaction& tx) -> Result<void> { return repo::InsertVariableSet(tx, set); }));
  std::optional<int64_t> first, stale;
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    set.variables = json::array({{{"Name", "B"}}});
    CUTTLE_TRY(first, repo::UpdateVariableSet(tx, set, 0));
    set.variables = json::array({{{"Name", "C"}}});
    CUTTLE_TRY(stale, repo::UpdateVariableSet(tx, set, 0));
    return {};
  }));
  EXPECT_EQ(first, 1);
  EXPECT_FALSE(stale.has_value());
  auto stored = repo::FindVariableSet(db, "Spaces-1", "VARIABLESET-projects-1");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->variables[0]["Name"], "B");
  EXPECT_EQ((*stored)->version, 1);
}

}  // namespace cuttle::testing
