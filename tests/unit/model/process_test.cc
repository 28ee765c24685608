#include "model/process.h"

#include <gtest/gtest.h>

#include "model/project.h"

namespace cuttle::model {
namespace {

using nlohmann::json;

json Step(const std::string& name, const std::string& type = "Octopus.Script") {
  return {{"Id", ""},
          {"Name", name},
          {"Properties", {{"Octopus.Action.TargetRoles", "web"}}},
          {"Actions",
           {{{"Id", ""},
             {"Name", name},
             {"ActionType", type},
             {"Environments", {"Environments-1"}},
             {"Channels", {"Channels-3"}},
             {"Packages", {{{"PackageId", "App"}, {"FeedId", "feeds-builtin"}}}},
             {"Properties", {{"Octopus.Action.RunOnServer", true}}},
             {"SomethingNew", {{"kept", 1}}}}}}};
}

TEST(ProcessTest, AssignsIdsAndDefaultsAndKeepsUnknownKeys) {
  std::vector<std::string> problems;
  ProcessReferences refs;
  json steps = NormalizeSteps(json::array({Step("Say hello")}), problems, refs);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const json& s = steps[0];
  EXPECT_EQ(s["Id"].get<std::string>().size(), 36u);
  EXPECT_EQ(s["Slug"], "say-hello");
  EXPECT_EQ(s["Condition"], "Success");
  EXPECT_EQ(s["StartTrigger"], "StartAfterPrevious");
  EXPECT_EQ(s["PackageRequirement"], "LetOctopusDecide");
  const json& a = s["Actions"][0];
  EXPECT_EQ(a["Id"].get<std::string>().size(), 36u);
  EXPECT_NE(a["Id"], s["Id"]);
  EXPECT_EQ(a["Properties"]["Octopus.Action.RunOnServer"], "True");
  EXPECT_EQ(a["Packages"][0]["AcquisitionLocation"], "Server");
  EXPECT_EQ(a["Packages"][0]["Id"].get<std::string>().size(), 36u);
  EXPECT_EQ(a["SomethingNew"]["kept"], 1);
  EXPECT_EQ(refs.environments, std::set<std::string>{"Environments-1"});
  EXPECT_EQ(refs.channels, std::set<std::string>{"Channels-3"});
}

TEST(ProcessTest, KeepsGivenIdsAndCanonicalizesEnums) {
  json step = Step("One");
  step["Id"] = "step-id";
  step["Actions"][0]["Id"] = "action-id";
  step["condition"] = "always";
  std::vector<std::string> problems;
  ProcessReferences refs;
  json steps = NormalizeSteps(json::array({step}), problems, refs);
  ASSERT_TRUE(problems.empty());
  EXPECT_EQ(steps[0]["Id"], "step-id");
  EXPECT_EQ(steps[0]["Actions"][0]["Id"], "action-id");
  EXPECT_EQ(steps[0]["Condition"], "Always");
  EXPECT_FALSE(steps[0].contains("condition"));
}

TEST(ProcessTest, ReportsEveryProblemByPlace) {
  json bad = Step("");
  bad["Actions"][0]["ActionType"] = "Octopus.AzureWebApp";
  bad["StartTrigger"] = "Whenever";
  json dup1 = Step("Twice");
  json dup2 = Step("Twice");
  dup2["Actions"][0]["Name"] = "Other";
  std::vector<std::string> problems;
  ProcessReferences refs;
  NormalizeSteps(json::array({bad, dup1, dup2}), problems, refs);
  auto has = [&](const std::string& needle) {
    for (const auto& p : problems) {
      if (p.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("Steps[0].Name is required"));
  EXPECT_TRUE(has("Steps[0].Actions[0].ActionType 'Octopus.AzureWebApp' is not supported"));
  EXPECT_TRUE(has("Steps[0].StartTrigger must be one of"));
  EXPECT_TRUE(has("Step names must be unique: 'Twice'"));
}

TEST(ProjectTest, SlugsAreLowerCaseWordsJoinedByDashes) {
  EXPECT_EQ(Slugify("My Web App!"), "my-web-app");
  EXPECT_EQ(Slugify("  Hello__World 2 "), "hello-world-2");
  EXPECT_EQ(DeploymentProcessIdOf("Projects-7"), "deploymentprocess-Projects-7");
  EXPECT_EQ(VariableSetIdOf("Projects-7"), "variableset-Projects-7");
}

}  // namespace
}  // namespace cuttle::model
