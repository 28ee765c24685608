// Which environments each phase of a lifecycle stands for (reference-octopus-deployment-model.md
// §2.3 rule 2), and the stored form of a lifecycle.
#include "model/lifecycle.h"

#include <gtest/gtest.h>

namespace cuttle::model {
namespace {

using V = std::vector<std::string>;

std::vector<repo::EnvironmentRow> Environments(const V& names) {
  std::vector<repo::EnvironmentRow> out;
  for (size_t i = 0; i < names.size(); ++i) {
    repo::EnvironmentRow e;
    e.id = "Environments-" + std::to_string(i + 1);
    e.name = names[i];
    e.sort_order = static_cast<int64_t>(i);
    out.push_back(e);
  }
  return out;
}

Phase MakePhase(const std::string& name, V automatic, V optional = {}) {
  Phase p;
  p.name = name;
  p.automatic_deployment_targets = std::move(automatic);
  p.optional_deployment_targets = std::move(optional);
  return p;
}

TEST(ResolvePhasesTest, NoPhasesIsOnePhasePerEnvironmentInSortOrder) {
  auto resolved = ResolvePhases({}, Environments({"Dev", "Test", "Prod"}));
  ASSERT_EQ(resolved.size(), 3u);
  EXPECT_EQ(resolved[0].phase.name, "Dev");
  EXPECT_EQ(resolved[0].environment_ids, V{"Environments-1"});
  EXPECT_EQ(resolved[2].phase.name, "Prod");
  EXPECT_EQ(resolved[2].environment_ids, V{"Environments-3"});
  EXPECT_FALSE(resolved[1].phase.is_optional_phase);
}

TEST(ResolvePhasesTest, APhaseIsItsAutomaticAndOptionalTargetsInSortOrder) {
  auto resolved = ResolvePhases({MakePhase("Pre", {"Environments-2"}, {"Environments-1"}),
                                 MakePhase("Live", {}, {"Environments-3"})},
                                Environments({"Dev", "Test", "Prod"}));
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved[0].environment_ids, (V{"Environments-1", "Environments-2"}));
  EXPECT_EQ(resolved[1].environment_ids, V{"Environments-3"});
}

TEST(ResolvePhasesTest, AnEmptyPhaseIsEveryEnvironmentNotNamedEarlier) {
  auto resolved = ResolvePhases({MakePhase("First", {"Environments-2"}), MakePhase("Rest", {}),
                                 MakePhase("Last", {"Environments-4"})},
                                Environments({"A", "B", "C", "D"}));
  ASSERT_EQ(resolved.size(), 3u);
  // Later phases do not take environments away from an empty phase: only earlier ones count.
  EXPECT_EQ(resolved[1].environment_ids, (V{"Environments-1", "Environments-3", "Environments-4"}));
  EXPECT_EQ(resolved[2].environment_ids, V{"Environments-4"});
}

TEST(ResolvePhasesTest, UnknownEnvironmentsAreLeftOutAndIdsMatchIgnoringCase) {
  auto resolved = ResolvePhases({MakePhase("Only", {"environments-1", "Environments-9"})},
                                Environments({"Dev"}));
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].environment_ids, V{"Environments-1"});
}

TEST(ResolvePhasesTest, ASpaceWithoutEnvironmentsHasEmptyPhases) {
  EXPECT_TRUE(ResolvePhases({}, {}).empty());
  auto resolved = ResolvePhases({MakePhase("P", {})}, {});
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_TRUE(resolved[0].environment_ids.empty());
}

TEST(LifecycleRowTest, ARoundTripKeepsEveryFieldAndUnknownProperties) {
  Lifecycle l;
  l.id = "Lifecycles-3";
  l.space_id = "Spaces-2";
  l.name = "Main";
  l.description = "d";
  Phase p = MakePhase("Dev", {"Environments-1"}, {"Environments-2"});
  p.id = "Phases-7";
  p.minimum_environments_before_promotion = 1;
  p.is_optional_phase = true;
  p.release_retention_policy = RetentionPolicy{3, false, "Items"};
  p.extra = {{"Custom", 1}, {"Name", "shadow"}};
  l.phases = {p};
  l.release_retention_policy = RetentionPolicy{30, false, "Days"};
  l.extra = {{"Future", "x"}};
  Lifecycle back = LifecycleFromRow(LifecycleToRow(l));
  ASSERT_EQ(back.phases.size(), 1u);
  EXPECT_EQ(back.phases[0].id, "Phases-7");
  EXPECT_EQ(back.phases[0].optional_deployment_targets, V{"Environments-2"});
  EXPECT_EQ(back.phases[0].minimum_environments_before_promotion, 1);
  EXPECT_TRUE(back.phases[0].is_optional_phase);
  ASSERT_TRUE(back.phases[0].release_retention_policy);
  EXPECT_EQ(back.phases[0].release_retention_policy->unit, "Items");
  EXPECT_FALSE(back.phases[0].tentacle_retention_policy);
  EXPECT_EQ(back.release_retention_policy.quantity_to_keep, 30);
  auto json = LifecycleJson(back);
  EXPECT_EQ(json["Future"], "x");
  EXPECT_EQ(json["Phases"][0]["Custom"], 1);
  EXPECT_EQ(json["Phases"][0]["Name"], "Dev");  // a known field wins over an unknown one
  EXPECT_TRUE(json["Phases"][0]["TentacleRetentionPolicy"].is_null());
  EXPECT_EQ(json["Slug"], "main");
  EXPECT_EQ(NamedEnvironments(back), (V{"Environments-1", "Environments-2"}));
}

TEST(LifecycleRowTest, AnEmptyDocumentIsTheDefaultLifecycle) {
  Lifecycle l = LifecycleFromRow({"Lifecycles-1", "Spaces-1", "Default Lifecycle", {}});
  EXPECT_TRUE(l.phases.empty());
  EXPECT_TRUE(l.release_retention_policy.should_keep_forever);
  EXPECT_EQ(l.release_retention_policy.unit, "Days");
  EXPECT_EQ(LifecycleJson(l)["Slug"], "default-lifecycle");
}

}  // namespace
}  // namespace cuttle::model
