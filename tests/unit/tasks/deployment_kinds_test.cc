// Which actions of a frozen process a Deploy or RunbookRun task would run (until the deployment
// engine arrives, a task with none succeeds at once and any other fails).
#include "tasks/deployment_kinds.h"

#include <gtest/gtest.h>

namespace cuttle::tasks {
namespace {

using nlohmann::json;

json Step(json actions) { return {{"Name", "s"}, {"Actions", std::move(actions)}}; }
json Action(std::string id, json extra = json::object()) {
  json a = {{"Id", id}, {"Name", id}};
  a.update(extra);
  return a;
}

TEST(DeploymentKindsTest, AnEmptyProcessHasNothingToRun) {
  EXPECT_EQ(RunnableActions(json::array(), "Environments-1", "Channels-1", json::array()), 0);
  EXPECT_EQ(
      RunnableActions(json::array({Step(json::array())}), "Environments-1", "", json::array()), 0);
}

TEST(DeploymentKindsTest, DisabledSkippedAndOutOfScopeActionsDoNotRun) {
  json steps = json::array({Step(json::array({
      Action("a"),
      Action("disabled", {{"IsDisabled", true}}),
      Action("skipped"),
      Action("required", {{"IsRequired", true}}),
      Action("other-env", {{"Environments", {"Environments-2"}}}),
      Action("this-env", {{"Environments", {"Environments-1"}}}),
      Action("excluded", {{"ExcludedEnvironments", {"Environments-1"}}}),
      Action("other-channel", {{"Channels", {"Channels-2"}}}),
  }))});
  // a, required (cannot be skipped), this-env.
  EXPECT_EQ(RunnableActions(steps, "Environments-1", "Channels-1", {"skipped", "required"}), 3);
}

}  // namespace
}  // namespace cuttle::tasks
