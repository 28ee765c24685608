#include "model/promotion.h"

#include <gtest/gtest.h>

namespace cuttle::model {
namespace {

using Envs = std::vector<std::string>;

PromotionPhase Phase(std::string name, Envs envs, int minimum = 0, bool optional = false) {
  return PromotionPhase{std::move(name), std::move(envs), minimum, optional};
}

// Dev (1 env), Test (2 envs), Production (1 env).
std::vector<PromotionPhase> ThreePhases(int test_minimum = 0) {
  return {Phase("Development", {"Environments-1"}),
          Phase("Test", {"Environments-2", "Environments-3"}, test_minimum),
          Phase("Production", {"Environments-4"})};
}

TEST(PromotionTest, OnlyTheFirstPhaseIsOpenToANewRelease) {
  auto p = EvaluatePromotion(ThreePhases(), {});
  EXPECT_EQ(p.deployable, (Envs{"Environments-1"}));
  EXPECT_TRUE(p.phases[0].deployable);
  EXPECT_FALSE(p.phases[1].deployable);
  EXPECT_EQ(p.blocked_by[1], 0u);
  EXPECT_EQ(p.blocked_by[2], 0u);
}

TEST(PromotionTest, ACompletePhaseOpensTheNextAndStaysDeployable) {
  auto p = EvaluatePromotion(ThreePhases(), {"Environments-1"});
  EXPECT_EQ(p.deployable, (Envs{"Environments-1", "Environments-2", "Environments-3"}));
  EXPECT_TRUE(p.phases[0].complete);
  EXPECT_EQ(p.blocked_by[2], 1u);
}

TEST(PromotionTest, MinimumZeroMeansEveryEnvironmentOfThePhase) {
  auto p = EvaluatePromotion(ThreePhases(0), {"Environments-1", "Environments-2"});
  EXPECT_FALSE(p.phases[1].complete);
  EXPECT_EQ(p.phases[1].deployed, 1);
  EXPECT_EQ(p.phases[1].required, 2);
  EXPECT_FALSE(p.phases[2].deployable);
  p = EvaluatePromotion(ThreePhases(0), {"Environments-1", "Environments-2", "Environments-3"});
  EXPECT_TRUE(p.phases[2].deployable);
}

TEST(PromotionTest, AMinimumBelowThePhaseSizeOpensTheNextPhaseEarlier) {
  auto p = EvaluatePromotion(ThreePhases(1), {"Environments-1", "Environments-3"});
  EXPECT_TRUE(p.phases[1].complete);
  EXPECT_EQ(p.deployable.back(), "Environments-4");
}

TEST(PromotionTest, AMinimumAboveThePhaseSizeAsksForAllOfIt) {
  std::vector<PromotionPhase> phases = {Phase("A", {"E1"}, 5), Phase("B", {"E2"})};
  EXPECT_EQ(EvaluatePromotion(phases, {"E1"}).deployable, (Envs{"E1", "E2"}));
}

// ISS #9810: with the first n phases optional, the first n+1 phases are deployable.
TEST(PromotionTest, LeadingOptionalPhasesOpenThePhaseAfterThem) {
  std::vector<PromotionPhase> phases = {Phase("A", {"E1"}, 0, true), Phase("B", {"E2"}, 0, true),
                                        Phase("C", {"E3"}), Phase("D", {"E4"})};
  auto p = EvaluatePromotion(phases, {});
  EXPECT_EQ(p.deployable, (Envs{"E1", "E2", "E3"}));
  EXPECT_EQ(p.blocked_by[3], 2u);
}

TEST(PromotionTest, AnOptionalPhaseInTheMiddleDoesNotHoldBackTheNext) {
  std::vector<PromotionPhase> phases = {Phase("A", {"E1"}), Phase("B", {"E2"}, 0, true),
                                        Phase("C", {"E3"})};
  EXPECT_EQ(EvaluatePromotion(phases, {}).deployable, (Envs{"E1"}));
  EXPECT_EQ(EvaluatePromotion(phases, {"E1"}).deployable, (Envs{"E1", "E2", "E3"}));
}

TEST(PromotionTest, AnEnvironmentWhereTheReleaseSucceededStaysAllowed) {
  // E3 succeeded once (say, before the lifecycle was changed); a redeploy is allowed although its
  // phase is now behind an incomplete one.
  std::vector<PromotionPhase> phases = {Phase("A", {"E1"}), Phase("B", {"E3"})};
  auto p = EvaluatePromotion(phases, {"E3"});
  EXPECT_EQ(p.deployable, (Envs{"E1", "E3"}));
  EXPECT_EQ(PromotionRefusal(phases, {"E3"}, "E3", "Prod", "1.0.0", "L"), std::nullopt);
}

TEST(PromotionTest, NoPhasesAllowNothing) {
  EXPECT_TRUE(EvaluatePromotion({}, {}).deployable.empty());
}

TEST(PromotionTest, TheRefusalNamesTheBlockingPhaseAndItsProgress) {
  auto message = PromotionRefusal(ThreePhases(), {"Environments-1", "Environments-2"},
                                  "Environments-4", "Production", "1.0.1", "Default Lifecycle");
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(*message,
            "Release 1.0.1 cannot be deployed to Production: the phase 'Test' must be complete "
            "first (1 of 2 environments deployed successfully).");
  message =
      PromotionRefusal(ThreePhases(), {}, "Environments-2", "Test A", "1.0.1", "Default Lifecycle");
  EXPECT_EQ(*message,
            "Release 1.0.1 cannot be deployed to Test A: the phase 'Development' must be complete "
            "first (0 of 1 environments deployed successfully).");
}

TEST(PromotionTest, AnEnvironmentOutsideTheLifecycleIsRefusedWithTheLifecycleNamed) {
  auto message = PromotionRefusal(ThreePhases(), {}, "Environments-9", "Other", "2.0.0", "Main");
  EXPECT_EQ(*message,
            "Release 2.0.0 cannot be deployed to Other: the environment is not in the "
            "lifecycle 'Main'.");
}

TEST(PromotionTest, AnEnvironmentInTwoPhasesIsAllowedByTheEarlierOne) {
  std::vector<PromotionPhase> phases = {Phase("A", {"E1", "E2"}, 1), Phase("B", {"E2", "E3"})};
  EXPECT_EQ(PromotionRefusal(phases, {}, "E2", "E2", "1", "L"), std::nullopt);
}

}  // namespace
}  // namespace cuttle::model

#include "core/strings.h"
#include "model/release.h"

namespace cuttle::model {
namespace {

// The dashboard writes its items as text; they must parse, and say what the JSON form says.
TEST(DashboardItemTextTest, TheTextFormIsTheJsonForm) {
  repo::DashboardItem i;
  i.project_id = "Projects-1";
  i.environment_id = "Environments-2";
  i.release_id = "Releases-3";
  i.release_version = "1.0.0-\"quoted\"\\\n";
  i.deployment_id = "Deployments-4";
  i.task_id = "ServerTasks-5";
  i.channel_id = "Channels-6";
  for (int64_t t :
       {int64_t{0}, int64_t{951782400123}, int64_t{1709622489000}, int64_t{4102444799999}}) {
    i.created = t;
    i.queue_time = t + 1;
    i.start_time = t + 2;
    i.completed_time = std::nullopt;
    i.state = "Executing";
    i.error_message = "caf\xC3\xA9";
    std::string text;
    AppendDashboardItemJson(text, i, true);
    auto parsed = nlohmann::json::parse(text);
    EXPECT_EQ(parsed, DashboardItemJson(i, true)) << text;
    EXPECT_EQ(parsed["Created"], core::FormatIso8601(t));
  }
}

}  // namespace
}  // namespace cuttle::model
