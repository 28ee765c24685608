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

// Bug: json::value() threw on a null or text flag (the binder stores "true"/null as sent), and the
// exception ended the node from the runner's thread.
TEST(DeploymentKindsTest, FlagsSpelledAsTextOrNullAreReadNotThrown) {
  json steps = json::array({Step(json::array({
      Action("text-disabled", {{"IsDisabled", "True"}}),
      Action("null-disabled", {{"IsDisabled", nullptr}}),
      Action("text-required", {{"IsRequired", "true"}}),
      {{"Id", nullptr}, {"Name", "no id"}, {"IsRequired", nullptr}},
  }))});
  // text-required (cannot be skipped) and the action without an id; null-disabled is enabled but
  // skipped, text-disabled is disabled.
  EXPECT_EQ(RunnableActions(steps, "Environments-1", "", {"text-required", "null-disabled"}), 2);
}

}  // namespace
}  // namespace cuttle::tasks
