#include "engine/plan.h"

#include <gtest/gtest.h>

namespace cuttle::engine {
namespace {

using nlohmann::json;

json Action(std::string name, json properties = json::object()) {
  return {{"Id", "a-" + name},
          {"Name", name},
          {"Slug", name},
          {"ActionType", "Octopus.Script"},
          {"IsDisabled", false},
          {"IsRequired", false},
          {"Condition", "Success"},
          {"Environments", json::array()},
          {"ExcludedEnvironments", json::array()},
          {"Channels", json::array()},
          {"TenantTags", json::array()},
          {"Packages", json::array()},
          {"Properties", std::move(properties)}};
}

json Step(std::string name, std::string roles, std::vector<json> actions = {}) {
  json properties = json::object();
  if (!roles.empty()) properties["Octopus.Action.TargetRoles"] = roles;
  if (actions.empty()) actions.push_back(Action(name));
  return {{"Id", "s-" + name},
          {"Name", name},
          {"Slug", name},
          {"Properties", std::move(properties)},
          {"Condition", "Success"},
          {"StartTrigger", "StartAfterPrevious"},
          {"PackageRequirement", "LetOctopusDecide"},
          {"Actions", std::move(actions)}};
}

json Process(std::vector<json> steps) {
  return {{"Id", "deploymentprocess-Projects-1-s1"}, {"Steps", std::move(steps)}};
}

CandidateMachine Machine(std::string id, std::string name, std::vector<std::string> roles,
                         std::vector<std::string> environments = {"Environments-1"}) {
  CandidateMachine m;
  m.id = std::move(id);
  m.name = std::move(name);
  m.roles = std::move(roles);
  m.environment_ids = std::move(environments);
  m.health = HealthStatus::kHealthy;
  m.communication_style = "TentacleActive";
  return m;
}

DeploymentRequest Request() {
  DeploymentRequest r;
  r.environment_id = "Environments-1";
  r.environment_name = "Production";
  r.channel_id = "Channels-1";
  r.process_owner_id = "Projects-1";
  return r;
}

std::vector<CandidateMachine> Fleet() {
  return {Machine("Machines-3", "web-b", {"web"}), Machine("Machines-1", "web-a", {"web", "cache"}),
          Machine("Machines-2", "db", {"db"}),
          Machine("Machines-4", "web-test", {"web"}, {"Environments-2"})};
}

Plan MustPlan(const json& process, const DeploymentRequest& r = Request(),
              const std::vector<CandidateMachine>& machines = Fleet()) {
  auto p = PlanDeployment(process, r, machines);
  EXPECT_TRUE(p.has_value()) << p.error().message();
  return p.value_or(Plan{});
}

std::vector<std::string> TargetIds(const PlannedStep& s) {
  std::vector<std::string> out;
  for (const auto& t : s.targets) out.push_back(t.id);
  return out;
}

std::vector<std::vector<std::string>> GroupNames(const Plan& p) {
  std::vector<std::vector<std::string>> out;
  for (const auto& g : p.groups) {
    out.emplace_back();
    for (const auto& s : g.steps) out.back().push_back(s.name);
  }
  return out;
}

const PlannedStep& OnlyStep(const Plan& p) {
  EXPECT_EQ(p.groups.size(), 1u);
  EXPECT_EQ(p.groups.at(0).steps.size(), 1u);
  return p.groups.at(0).steps.at(0);
}

// --- target selection (§3.2) ---

TEST(TargetSelectionTest, MachinesOfTheEnvironmentWithOneOfTheRolesOrderedByName) {
  auto p = MustPlan(Process({Step("Deploy", "web, cache")}));
  const auto& s = OnlyStep(p);
  EXPECT_EQ(s.kind, StepKind::kTargets);
  EXPECT_EQ(s.target_roles, (std::vector<std::string>{"web", "cache"}));
  EXPECT_EQ(TargetIds(s), (std::vector<std::string>{"Machines-1", "Machines-3"}));
  EXPECT_EQ(s.actions.at(0).location, ActionLocation::kTarget);
  ASSERT_EQ(p.machines.size(), 2u);
  EXPECT_EQ(p.machines[0].name, "web-a");
}

TEST(TargetSelectionTest, RolesAndEnvironmentsCompareCaseInsensitively) {
  DeploymentRequest r = Request();
  r.environment_id = "environments-1";
  auto p = MustPlan(Process({Step("Deploy", "WEB")}), r);
  EXPECT_EQ(TargetIds(OnlyStep(p)), (std::vector<std::string>{"Machines-1", "Machines-3"}));
}

TEST(TargetSelectionTest, DisabledMachinesAreNeverTargets) {
  auto fleet = Fleet();
  fleet[0].disabled = true;  // web-b
  auto p = MustPlan(Process({Step("Deploy", "web")}), Request(), fleet);
  EXPECT_EQ(TargetIds(OnlyStep(p)), std::vector<std::string>{"Machines-1"});
}

TEST(TargetSelectionTest, SpecificAndExcludedMachines) {
  DeploymentRequest r = Request();
  r.specific_machine_ids = {"Machines-3", "Machines-2"};
  auto p = MustPlan(Process({Step("Deploy", "web")}), r);
  EXPECT_EQ(TargetIds(OnlyStep(p)), std::vector<std::string>{"Machines-3"});
  r = Request();
  r.excluded_machine_ids = {"Machines-3"};
  p = MustPlan(Process({Step("Deploy", "web")}), r);
  EXPECT_EQ(TargetIds(OnlyStep(p)), std::vector<std::string>{"Machines-1"});
}

TEST(TargetSelectionTest, UnhealthyTargetsRunUnlessThePolicyLeavesThemOut) {
  auto fleet = Fleet();
  fleet[0].health = HealthStatus::kUnhealthy;    // web-b
  fleet[1].health = HealthStatus::kHasWarnings;  // web-a
  fleet.push_back(Machine("Machines-5", "web-c", {"web"}));
  fleet.back().health = HealthStatus::kUnavailable;
  auto p = MustPlan(Process({Step("Deploy", "web")}), Request(), fleet);
  EXPECT_EQ(TargetIds(OnlyStep(p)),
            (std::vector<std::string>{"Machines-1", "Machines-3", "Machines-5"}));
  EXPECT_TRUE(p.excluded_targets.empty());

  DeploymentRequest r = Request();
  r.policy.exclude_unhealthy_targets = true;
  p = MustPlan(Process({Step("Deploy", "web")}), r, fleet);
  EXPECT_EQ(TargetIds(OnlyStep(p)), std::vector<std::string>{"Machines-1"});
  ASSERT_EQ(p.excluded_targets.size(), 2u);
  EXPECT_EQ(p.excluded_targets[0].name, "web-b");
  EXPECT_NE(p.excluded_targets[0].reason.find("unhealthy"), std::string::npos);

  r = Request();
  r.policy.skip_unavailable_machines = true;
  p = MustPlan(Process({Step("Deploy", "web")}), r, fleet);
  EXPECT_EQ(TargetIds(OnlyStep(p)), (std::vector<std::string>{"Machines-1", "Machines-3"}));
  ASSERT_EQ(p.excluded_targets.size(), 1u);
  EXPECT_EQ(p.excluded_targets[0].id, "Machines-5");

  r.policy.skip_roles = {"db"};  // only unavailable db servers may be skipped
  p = MustPlan(Process({Step("Deploy", "web")}), r, fleet);
  EXPECT_EQ(TargetIds(OnlyStep(p)).size(), 3u);
}

TEST(TargetSelectionTest, AMachineLeftOutOfSeveralStepsIsListedOnce) {
  auto fleet = Fleet();
  fleet[0].health = HealthStatus::kUnavailable;
  DeploymentRequest r = Request();
  r.policy.skip_unavailable_machines = true;
  auto p = MustPlan(Process({Step("One", "web"), Step("Two", "web")}), r, fleet);
  EXPECT_EQ(p.excluded_targets.size(), 1u);
}

TEST(TargetSelectionTest, RolesMatchingNoTargetAreAnErrorNamingStepRolesAndEnvironment) {
  auto fleet = Fleet();
  fleet.push_back(Machine("Machines-9", "queue", {"queue"}));
  fleet.back().disabled = true;
  auto p = PlanDeployment(Process({Step("Deploy queue", "queue")}), Request(), fleet);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.error().message(),
            "The step 'Deploy queue' cannot run: no enabled deployment target in Production has "
            "the role(s) queue (1 disabled).");
}

TEST(TargetSelectionTest, EveryProblemIsListed) {
  auto p = PlanDeployment(Process({Step("A", "queue"), Step("B", "web"), Step("C", "mail")}),
                          Request(), Fleet());
  ASSERT_FALSE(p.has_value());
  ASSERT_EQ(p.error().details().size(), 2u);
  EXPECT_NE(p.error().details()[0].find("'A'"), std::string::npos);
  EXPECT_NE(p.error().details()[1].find("'C'"), std::string::npos);
}

TEST(TargetSelectionTest, DeploymentsToNoTargetsSkipTheStepWhenThePolicyAllowsThem) {
  DeploymentRequest r = Request();
  r.policy.allow_deployments_to_no_targets = true;
  auto p = MustPlan(Process({Step("Deploy queue", "queue"), Step("Deploy web", "web")}), r);
  EXPECT_EQ(GroupNames(p), (std::vector<std::vector<std::string>>{{"Deploy web"}}));
  ASSERT_EQ(p.skipped_steps.size(), 1u);
  EXPECT_EQ(p.skipped_steps[0].name, "Deploy queue");
  EXPECT_EQ(p.skipped_steps[0].number, 1);
  EXPECT_NE(p.skipped_steps[0].reason.find("role(s) queue"), std::string::npos);
  ASSERT_FALSE(p.warnings.empty());
  EXPECT_EQ(p.actions_skipped.at(0), (std::pair<std::string, bool>{"Deploy queue", true}));
}

TEST(TargetSelectionTest, AStepWhoseTargetsTheDeploymentDeselectedIsSkippedNotAnError) {
  DeploymentRequest r = Request();
  r.specific_machine_ids = {"Machines-2"};  // the db server only
  auto p = MustPlan(Process({Step("Web", "web"), Step("Db", "db")}), r);
  EXPECT_EQ(GroupNames(p), (std::vector<std::vector<std::string>>{{"Db"}}));
  ASSERT_EQ(p.skipped_steps.size(), 1u);
  EXPECT_NE(p.skipped_steps[0].reason.find("selected"), std::string::npos);

  auto fleet = Fleet();
  fleet[0].health = fleet[1].health = HealthStatus::kUnhealthy;
  r = Request();
  r.policy.exclude_unhealthy_targets = true;
  p = MustPlan(Process({Step("Web", "web"), Step("Db", "db")}), r, fleet);
  ASSERT_EQ(p.skipped_steps.size(), 1u);
  EXPECT_NE(p.skipped_steps[0].reason.find("health"), std::string::npos);
}

// --- execution locations (§3.2, §3.6) ---

TEST(ExecutionLocationTest, WithoutRolesAStepRunsOnceOnTheBuiltInWorker) {
  auto p = MustPlan(Process({Step("Notify", "")}));
  const auto& s = OnlyStep(p);
  EXPECT_EQ(s.kind, StepKind::kServer);
  EXPECT_TRUE(s.targets.empty());
  EXPECT_EQ(s.actions[0].location, ActionLocation::kServer);
  auto q = MustPlan(
      Process({Step("Notify", "", {Action("Notify", {{"Octopus.Action.RunOnServer", "true"}})})}));
  EXPECT_EQ(OnlyStep(q).actions[0].location, ActionLocation::kServer);
  EXPECT_TRUE(q.machines.empty());
}

TEST(ExecutionLocationTest, RunOnServerWithRolesRunsOnTheWorkerOnBehalfOfEachTarget) {
  auto p = MustPlan(
      Process({Step("Warm", "web", {Action("Warm", {{"Octopus.Action.RunOnServer", "True"}})})}));
  const auto& s = OnlyStep(p);
  EXPECT_EQ(s.kind, StepKind::kTargets);
  EXPECT_EQ(s.actions[0].location, ActionLocation::kServerForTarget);
  EXPECT_EQ(s.targets.size(), 2u);
}

TEST(ExecutionLocationTest, CloudRegionTargetsAreTargetsLikeAnyOther) {
  auto fleet = Fleet();
  fleet.push_back(Machine("Machines-7", "eu-west", {"region"}));
  fleet.back().communication_style = "None";
  auto p = MustPlan(Process({Step("Regional", "region")}), Request(), fleet);
  ASSERT_EQ(OnlyStep(p).targets.size(), 1u);
  EXPECT_EQ(OnlyStep(p).targets[0].communication_style, "None");
}

TEST(ExecutionLocationTest, ManualInterventionsHaveNoTarget) {
  json manual = Action("Approve", {{"Octopus.Action.Manual.Instructions", "Check the site"}});
  manual["ActionType"] = "Octopus.Manual";
  auto p = MustPlan(Process({Step("Approve", "web", {manual})}));
  const auto& s = OnlyStep(p);
  EXPECT_EQ(s.kind, StepKind::kManual);
  EXPECT_TRUE(s.targets.empty());
  EXPECT_EQ(s.actions[0].location, ActionLocation::kManual);
  EXPECT_EQ(s.actions[0].instructions, "Check the site");
  EXPECT_FALSE(s.required);

  manual["Properties"]["Octopus.Action.Manual.ResponsibleTeamIds"] = "Teams-1, Teams-2";
  auto q = MustPlan(Process({Step("Approve", "", {manual})}));
  EXPECT_EQ(OnlyStep(q).actions[0].responsible_team_ids,
            (std::vector<std::string>{"Teams-1", "Teams-2"}));
  EXPECT_TRUE(OnlyStep(q).required);  // naming teams makes it required
}

// --- skipped actions and steps (§3.1) ---

TEST(SkippingTest, DisabledEnvironmentAndChannelScopedActionsAreSkipped) {
  json disabled = Action("Disabled");
  disabled["IsDisabled"] = true;
  json elsewhere = Action("Elsewhere");
  elsewhere["Environments"] = {"Environments-2"};
  json here = Action("Here");
  here["Environments"] = {"Environments-2", "Environments-1"};
  json excluded = Action("Excluded");
  excluded["ExcludedEnvironments"] = {"Environments-1"};
  json other_channel = Action("OtherChannel");
  other_channel["Channels"] = {"Channels-2"};
  json this_channel = Action("ThisChannel");
  this_channel["Channels"] = {"Channels-1"};
  auto p = MustPlan(Process(
      {Step("Many", "", {disabled, elsewhere, here, excluded, other_channel, this_channel})}));
  const auto& s = OnlyStep(p);
  ASSERT_EQ(s.actions.size(), 2u);
  EXPECT_EQ(s.actions[0].name, "Here");
  EXPECT_EQ(s.actions[0].number, "1.3");
  EXPECT_EQ(s.actions[1].name, "ThisChannel");
  ASSERT_EQ(p.skipped_actions.size(), 4u);
  EXPECT_EQ(p.skipped_actions[0].reason, "it is disabled");
  EXPECT_EQ(p.skipped_actions[1].reason, "it does not run in Production");
  EXPECT_EQ(p.skipped_actions[2].reason, "it is excluded from Production");
  EXPECT_EQ(p.skipped_actions[3].reason, "it does not run in the release's channel");
  EXPECT_EQ(p.skipped_actions[3].step_name, "Many");
  ASSERT_EQ(p.actions_skipped.size(), 6u);
  EXPECT_TRUE(p.actions_skipped[0].second);
  EXPECT_FALSE(p.actions_skipped[2].second);
}

TEST(SkippingTest, ARunbookRunDoesNotJudgeChannels) {
  json other_channel = Action("OtherChannel");
  other_channel["Channels"] = {"Channels-2"};
  DeploymentRequest r = Request();
  r.channel_id.clear();
  auto p = MustPlan(Process({Step("S", "", {other_channel})}), r);
  EXPECT_EQ(OnlyStep(p).actions.size(), 1u);
}

TEST(SkippingTest, TheDeploymentSkipsActionsButNotRequiredOnes) {
  json required = Action("Migrate");
  required["IsRequired"] = true;
  DeploymentRequest r = Request();
  r.skip_actions = {"a-Smoke", "a-Migrate"};
  auto p = MustPlan(Process({Step("Smoke", ""), Step("Migrate", "", {required})}), r);
  EXPECT_EQ(GroupNames(p), (std::vector<std::vector<std::string>>{{"Migrate"}}));
  EXPECT_TRUE(p.groups[0].steps[0].required);
  ASSERT_EQ(p.skipped_actions.size(), 1u);
  EXPECT_EQ(p.skipped_actions[0].reason, "the deployment skips it");
  ASSERT_EQ(p.skipped_steps.size(), 1u);
  EXPECT_EQ(p.skipped_steps[0].name, "Smoke");
  bool warned = false;
  for (const auto& w : p.warnings) warned = warned || w.find("'Migrate' is required") != w.npos;
  EXPECT_TRUE(warned);
}

TEST(SkippingTest, StepNumbersCountSkippedStepsAndActionNumbersChildActions) {
  json disabled = Action("Off");
  disabled["IsDisabled"] = true;
  auto p =
      MustPlan(Process({Step("Off", "", {disabled}),
                        Step("Two", "", {Action("Two.A"), Action("Two.B")}), Step("Three", "")}));
  ASSERT_EQ(p.groups.size(), 2u);
  const auto& two = p.groups[0].steps[0];
  EXPECT_EQ(two.number, 2);
  EXPECT_EQ(two.actions[0].number, "2.1");
  EXPECT_EQ(two.actions[1].number, "2.2");
  EXPECT_EQ(p.groups[1].steps[0].number, 3);
  EXPECT_EQ(p.groups[1].steps[0].actions[0].number, "3");
}

// --- ordering and parallelism (§3.3) ---

// prefix + n, appended (GCC 12 warns falsely, -Wrestrict, on "literal" + std::to_string(n)).
std::string Numbered(std::string prefix, int n) {
  prefix += std::to_string(n);
  return prefix;
}

json WithPrevious(json step) {
  step["StartTrigger"] = "StartWithPrevious";
  return step;
}

TEST(OrderingTest, StartWithPreviousStepsFormOneGroup) {
  auto p = MustPlan(Process({Step("A", ""), WithPrevious(Step("B", "web")), Step("C", ""),
                             WithPrevious(Step("D", "")), WithPrevious(Step("E", "db"))}));
  EXPECT_EQ(GroupNames(p), (std::vector<std::vector<std::string>>{{"A", "B"}, {"C", "D", "E"}}));
}

TEST(OrderingTest, AStepJoinsTheNearestEarlierStepThatRuns) {
  json off = Action("B");
  off["IsDisabled"] = true;
  auto p = MustPlan(Process({Step("A", ""), Step("B", "", {off}), WithPrevious(Step("C", ""))}));
  EXPECT_EQ(GroupNames(p), (std::vector<std::vector<std::string>>{{"A", "C"}}));
  auto q = MustPlan(Process({WithPrevious(Step("First", "")), Step("Second", "")}));
  EXPECT_EQ(GroupNames(q), (std::vector<std::vector<std::string>>{{"First"}, {"Second"}}));
}

json Rolling(json step, std::string window) {
  step["Properties"]["Octopus.Action.MaxParallelism"] = std::move(window);
  return step;
}

TEST(OrderingTest, MaxParallelismSetsTheRollingWindow) {
  auto fleet = Fleet();
  for (int i = 10; i < 14; ++i) {
    fleet.push_back(Machine(Numbered("Machines-", i), Numbered("web-", i), {"web"}));
  }
  auto p = MustPlan(Process({Rolling(Step("Roll", "web"), "2")}), Request(), fleet);
  const auto& s = OnlyStep(p);
  EXPECT_EQ(s.targets.size(), 6u);
  EXPECT_EQ(s.max_parallelism, 2u);
  EXPECT_EQ(TargetWindow(s, std::nullopt), 2u);
  EXPECT_EQ(TargetWindow(s, "5"), 2u);  // the step's own window is the one it runs with

  auto q = MustPlan(Process({Step("Fan", "web")}), Request(), fleet);
  EXPECT_EQ(OnlyStep(q).max_parallelism, std::nullopt);
  EXPECT_EQ(TargetWindow(OnlyStep(q), std::nullopt), 6u);  // default 10, capped by the targets
  EXPECT_EQ(TargetWindow(OnlyStep(q), "4"), 4u);           // the project variable
  EXPECT_EQ(TargetWindow(OnlyStep(q), "many"), 6u);
  EXPECT_EQ(TargetWindow(OnlyStep(q), "0"), 6u);

  auto t = MustPlan(Process({Rolling(Step("Templated", "web"), "#{Window}")}), Request(), fleet);
  EXPECT_EQ(OnlyStep(t).max_parallelism, std::nullopt);
  EXPECT_EQ(TargetWindow(OnlyStep(t), "3"), 3u);

  auto server = MustPlan(Process({Step("Once", "")}));
  EXPECT_EQ(TargetWindow(OnlyStep(server), std::nullopt), 1u);
}

TEST(OrderingTest, TheDefaultWindowIsTen) {
  std::vector<CandidateMachine> fleet;
  for (int i = 0; i < 25; ++i) {
    fleet.push_back(Machine(Numbered("Machines-", i), Numbered("m", i), {"web"}));
  }
  auto p = MustPlan(Process({Step("Fan", "web")}), Request(), fleet);
  EXPECT_EQ(TargetWindow(OnlyStep(p), std::nullopt), kDefaultMaxParallelism);
}

// --- run conditions (§3.4) ---

json WithCondition(json step, std::string condition, std::string expression = "") {
  step["Condition"] = std::move(condition);
  if (!expression.empty()) {
    step["Properties"]["Octopus.Step.ConditionVariableExpression"] = std::move(expression);
  }
  return step;
}

bool Never(std::string_view) {
  ADD_FAILURE() << "the expression was evaluated";
  return false;
}

TEST(RunConditionTest, ConditionsAreReadWithTheirExpressions) {
  json old_key = Step("Old", "");
  old_key["Condition"] = "Variable";
  old_key["Properties"]["Octopus.Action.ConditionVariableExpression"] = "#{RunIt}";
  auto p = MustPlan(
      Process({WithCondition(Step("S", ""), "Success"), WithCondition(Step("F", ""), "failure"),
               WithCondition(Step("A", ""), "Always"),
               WithCondition(Step("V", ""), "Variable", "#{Go}"), old_key}));
  ASSERT_EQ(p.groups.size(), 5u);
  EXPECT_EQ(p.groups[0].steps[0].condition, StepCondition::kSuccess);
  EXPECT_EQ(p.groups[1].steps[0].condition, StepCondition::kFailure);
  EXPECT_EQ(p.groups[2].steps[0].condition, StepCondition::kAlways);
  EXPECT_EQ(p.groups[3].steps[0].condition, StepCondition::kVariable);
  EXPECT_EQ(p.groups[3].steps[0].condition_expression, "#{Go}");
  EXPECT_EQ(p.groups[4].steps[0].condition_expression, "#{RunIt}");
}

TEST(RunConditionTest, SuccessFailureAndAlways) {
  PlannedStep s;
  s.condition = StepCondition::kSuccess;
  EXPECT_TRUE(ShouldRun(s, false, Never));
  EXPECT_FALSE(ShouldRun(s, true, Never));
  s.condition = StepCondition::kFailure;
  EXPECT_FALSE(ShouldRun(s, false, Never));
  EXPECT_TRUE(ShouldRun(s, true, Never));
  s.condition = StepCondition::kAlways;
  EXPECT_TRUE(ShouldRun(s, false, Never));
  EXPECT_TRUE(ShouldRun(s, true, Never));
}

TEST(RunConditionTest, ARequiredStepStillNeedsItsConditionAfterAFailure) {
  json required = Action("Migrate");
  required["IsRequired"] = true;
  auto p = MustPlan(Process(
      {Step("Migrate", "", {required}), WithCondition(Step("Cleanup", "", {required}), "Always")}));
  const auto& migrate = p.groups[0].steps[0];
  const auto& cleanup = p.groups[1].steps[0];
  EXPECT_TRUE(migrate.required);
  EXPECT_FALSE(ShouldRun(migrate, true, Never));
  EXPECT_TRUE(ShouldRun(cleanup, true, Never));
  // Its first action's Success condition looks at this step's earlier actions only.
  EXPECT_TRUE(ShouldRunAction(cleanup.actions[0], false, Never));
}

TEST(RunConditionTest, VariableConditionsAskTheEvaluatorWhateverFailed) {
  PlannedStep s;
  s.condition = StepCondition::kVariable;
  s.condition_expression = "#{unless Octopus.Deployment.Error}true#{/unless}";
  std::vector<std::string> asked;
  auto yes = [&](std::string_view e) {
    asked.emplace_back(e);
    return true;
  };
  EXPECT_TRUE(ShouldRun(s, true, yes));
  EXPECT_TRUE(ShouldRun(s, false, yes));
  EXPECT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0], s.condition_expression);
  EXPECT_FALSE(ShouldRun(s, false, [](std::string_view) { return false; }));
  s.condition_expression.clear();
  EXPECT_FALSE(ShouldRun(s, false, Never));
  s.condition_expression = "#{x}";
  EXPECT_FALSE(ShouldRun(s, false, nullptr));
}

TEST(RunConditionTest, ActionConditions) {
  json variable = Action("Maybe", {{"Octopus.Action.ConditionVariableExpression", "#{Go}"}});
  variable["Condition"] = "Variable";
  auto p = MustPlan(Process({Step("S", "", {Action("Always"), variable})}));
  const auto& plain = p.groups[0].steps[0].actions[0];
  const auto& maybe = p.groups[0].steps[0].actions[1];
  EXPECT_EQ(maybe.condition, ActionCondition::kVariable);
  EXPECT_EQ(maybe.condition_expression, "#{Go}");
  EXPECT_TRUE(ShouldRunAction(plain, false, Never));
  EXPECT_FALSE(ShouldRunAction(plain, true, Never));
  EXPECT_TRUE(ShouldRunAction(maybe, true, [](std::string_view e) { return e == "#{Go}"; }));
  EXPECT_FALSE(ShouldRunAction(maybe, false, [](std::string_view) { return false; }));
}

// --- packages, malformed processes ---

TEST(PackagesTest, VersionsComeFromTheReleaseSelection) {
  json deploy = Action("Deploy");
  deploy["ActionType"] = "Octopus.TentaclePackage";
  deploy["Packages"] = {{{"Id", "p1"},
                         {"Name", ""},
                         {"PackageId", "Acme.Web"},
                         {"FeedId", "feeds-builtin"},
                         {"AcquisitionLocation", "Server"},
                         {"Properties", json::object()}},
                        {{"Id", "p2"},
                         {"Name", "tools"},
                         {"PackageId", "Acme.Tools"},
                         {"FeedId", "feeds-builtin"},
                         {"AcquisitionLocation", "ExecutionTarget"},
                         {"Properties", json::object()}}};
  DeploymentRequest r = Request();
  r.selected_packages = {
      {{"ActionName", "deploy"}, {"PackageReferenceName", ""}, {"Version", "1.0.0"}},
      {{"ActionName", "Deploy"}, {"PackageReferenceName", "Tools"}, {"Version", "2.0.0"}}};
  auto p = MustPlan(Process({Step("Deploy", "web", {deploy})}), r);
  const auto& packages = OnlyStep(p).actions[0].packages;
  ASSERT_EQ(packages.size(), 2u);
  EXPECT_EQ(packages[0].package_id, "Acme.Web");
  EXPECT_EQ(packages[0].version, "1.0.0");
  EXPECT_EQ(packages[1].name, "tools");
  EXPECT_EQ(packages[1].version, "2.0.0");
  EXPECT_EQ(packages[1].acquisition_location, "ExecutionTarget");

  r.selected_packages = json::array({r.selected_packages[0]});
  auto missing = PlanDeployment(Process({Step("Deploy", "web", {deploy})}), r, Fleet());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("'Acme.Tools'"), std::string::npos);
}

TEST(MalformedProcessTest, ProblemsAreErrorsNotExceptions) {
  EXPECT_FALSE(PlanDeployment(json("x"), Request(), Fleet()).has_value());
  EXPECT_FALSE(PlanDeployment(json::object(), Request(), Fleet()).has_value());
  EXPECT_FALSE(PlanDeployment(json::array({1}), Request(), Fleet()).has_value());
  json bad = Step("S", "");
  bad["Condition"] = "Sometimes";
  auto p = PlanDeployment(Process({bad}), Request(), Fleet());
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("Steps[0].Condition"), std::string::npos);
  json no_actions = Step("S", "");
  no_actions["Actions"] = "none";
  EXPECT_FALSE(PlanDeployment(Process({no_actions}), Request(), Fleet()).has_value());
  // The Steps array itself is accepted as well as the process document; no steps, no groups.
  auto empty = PlanDeployment(json::array(), Request(), Fleet());
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->groups.empty());
}

TEST(ReadersTest, HealthAndConnectivityPolicy) {
  EXPECT_EQ(ParseHealthStatus("healthy"), HealthStatus::kHealthy);
  EXPECT_EQ(ParseHealthStatus("HasWarnings"), HealthStatus::kHasWarnings);
  EXPECT_EQ(ParseHealthStatus("Unavailable"), HealthStatus::kUnavailable);
  EXPECT_EQ(ParseHealthStatus("Unhealthy"), HealthStatus::kUnhealthy);
  EXPECT_EQ(ParseHealthStatus("?"), HealthStatus::kUnknown);
  auto p = ReadConnectivityPolicy({{"SkipMachineBehavior", "SkipUnavailableMachines"},
                                   {"TargetRoles", {"web"}},
                                   {"AllowDeploymentsToNoTargets", true},
                                   {"ExcludeUnhealthyTargets", false}});
  EXPECT_TRUE(p.skip_unavailable_machines);
  EXPECT_EQ(p.skip_roles, std::vector<std::string>{"web"});
  EXPECT_TRUE(p.allow_deployments_to_no_targets);
  EXPECT_FALSE(p.exclude_unhealthy_targets);
  EXPECT_FALSE(ReadConnectivityPolicy(json()).skip_unavailable_machines);
}

// --- from plan to variables ---

TEST(PlanVariablesTest, ATargetSeesItsScopedValuesAndItsFacts) {
  auto p = MustPlan(Process(
      {Step("Deploy", "web", {Action("Deploy", {{"Octopus.Action.Script.ScriptBody", "run"}})})}));
  const auto& step = OnlyStep(p);
  const auto& action = step.actions[0];
  const PlannedTarget& web_a = step.targets[0];
  ScopeContext scope = ScopeFor(Request(), step, action, &web_a);
  EXPECT_EQ(scope.machine_id, "Machines-1");
  EXPECT_EQ(scope.action_id, "a-Deploy");
  EXPECT_EQ(scope.process_owner_id, "Projects-1");

  auto frozen = ReadFrozenVariables(
      json::array({{{"Name", "Url"}, {"Value", "any"}, {"Scope", json::object()}},
                   {{"Name", "Url"}, {"Value", "a"}, {"Scope", {{"Machine", {"Machines-1"}}}}},
                   {{"Name", "Url"}, {"Value", "web"}, {"Scope", {{"Role", {"web"}}}}}}),
      {});
  ASSERT_TRUE(frozen.has_value());
  DeploymentFacts facts;
  facts.deployment_id = "Deployments-1";
  AddPlanFacts(p, facts);
  auto d = ResolveVariables(
      *frozen, OutputVariables{}, scope,
      SystemVariables({facts, StepFactsFor(step, action), MachineFactsFor(web_a)}));
  EXPECT_EQ(d.Get("Url"), "a");
  EXPECT_EQ(d.Get("Octopus.Machine.Name"), "web-a");
  EXPECT_EQ(d.Get("Octopus.Step.Number"), "1");
  EXPECT_EQ(d.Get("Octopus.Action.Script.ScriptBody"), "run");
  EXPECT_EQ(d.Get("Octopus.Deployment.Machines"), "Machines-1,Machines-3");
  EXPECT_EQ(d.Get("Octopus.Environment.MachinesInRole[web]"), "Machines-1,Machines-3");
  EXPECT_EQ(d.Get("Octopus.Environment.MachinesInRole[cache]"), "Machines-1");
  EXPECT_EQ(d.Get("Octopus.Action[Deploy].IsSkipped"), "False");

  ScopeContext other = ScopeFor(Request(), step, action, &step.targets[1]);
  EXPECT_EQ(ResolveVariables(*frozen, OutputVariables{}, other).Get("Url"), "web");
  ScopeContext worker = ScopeFor(Request(), step, action, nullptr);
  EXPECT_EQ(ResolveVariables(*frozen, OutputVariables{}, worker).Get("Url"), "any");
}

}  // namespace
}  // namespace cuttle::engine
