// The lifecycle check of a deployment (api/deploy_common.h CheckDeployable): each release's
// lifecycle is loaded once however many environments it goes to, and a plan the lifecycle does
// not open yet is refused.
#include "api/deploy_common.h"

#include <gtest/gtest.h>

#include <map>

namespace cuttle::api {
namespace {

DeployPlan Plan(const std::string& release, const std::string& env) {
  DeployPlan p;
  p.project.id = "Projects-1";
  p.project.name = "App";
  p.release.id = release;
  p.release.version = "1.0." + release.substr(release.find('-') + 1);
  p.environment.id = env;
  p.environment.name = env;
  return p;
}

// Dev then Test then Prod, one phase each; `succeeded` the environments the release has reached.
ReleaseGate Gate(std::set<std::string> succeeded) {
  ReleaseGate g;
  g.lifecycle.id = "Lifecycles-1";
  g.lifecycle.name = "Default";
  for (const char* env : {"Dev", "Test", "Prod"}) {
    model::PromotionPhase phase;
    phase.name = env;
    phase.environment_ids = {env};
    g.lifecycle.phases.push_back(phase);
    g.lifecycle.phase_ids.push_back(std::string("Phase-") + env);
  }
  g.succeeded = std::move(succeeded);
  return g;
}

TEST(CheckDeployableTest, LoadsEachReleasesLifecycleOnce) {
  std::map<std::string, int> loads;
  const GateLoader load = [&](const DeployPlan& plan) -> Result<ReleaseGate> {
    ++loads[plan.release.id];
    return Gate({"Dev", "Test"});
  };
  auto ok = CheckDeployable({Plan("Releases-1", "Dev"), Plan("Releases-1", "Test"),
                             Plan("Releases-1", "Prod"), Plan("Releases-2", "Dev")},
                            load);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(loads, (std::map<std::string, int>{{"Releases-1", 1}, {"Releases-2", 1}}));
}

TEST(CheckDeployableTest, RefusesAnEnvironmentTheLifecycleHasNotOpened) {
  int loads = 0;
  const GateLoader load = [&](const DeployPlan&) -> Result<ReleaseGate> {
    ++loads;
    return Gate({});
  };
  auto refused = CheckDeployable({Plan("Releases-1", "Dev"), Plan("Releases-1", "Prod")}, load);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("Prod"), std::string::npos) << refused.error().message();
  EXPECT_EQ(loads, 1);
}

TEST(CheckDeployableTest, RefusesADisabledProjectAndPassesOnALoadFailure) {
  DeployPlan disabled = Plan("Releases-1", "Dev");
  disabled.project.doc = {{"IsDisabled", true}};
  int loads = 0;
  auto refused = CheckDeployable({disabled}, [&](const DeployPlan&) -> Result<ReleaseGate> {
    ++loads;
    return Gate({});
  });
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("disabled"), std::string::npos);
  EXPECT_EQ(loads, 0);
  auto failed =
      CheckDeployable({Plan("Releases-1", "Dev")}, [](const DeployPlan&) -> Result<ReleaseGate> {
        return Fail(Error::NotFound("lifecycle", "Lifecycles-9"));
      });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cuttle::api
