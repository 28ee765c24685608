#include "engine/variable_resolution.h"

#include <gtest/gtest.h>

namespace cuttle::engine {
namespace {

using nlohmann::json;

json Var(std::string name, std::string value, json scope = json::object()) {
  return {{"Id", name + "-" + value}, {"Name", std::move(name)}, {"Value", std::move(value)},
          {"Type", "String"},         {"IsSensitive", false},    {"Scope", std::move(scope)},
          {"Prompt", nullptr}};
}

FrozenVariables Read(const json& project, const std::vector<json>& libraries = {}) {
  auto r = ReadFrozenVariables(project, libraries);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r.value_or(FrozenVariables{});
}

// A web server in Production, running the action "a-deploy" of a step that targets "web".
ScopeContext WebContext() {
  ScopeContext c;
  c.environment_id = "Environments-2";
  c.machine_id = "Machines-1";
  c.machine_roles = {"web", "cache"};
  c.step_target_roles = {"web"};
  c.action_id = "a-deploy";
  c.channel_id = "Channels-1";
  c.process_owner_id = "Projects-1";
  return c;
}

std::string Resolve(const json& project, const ScopeContext& c, const std::string& name,
                    const std::vector<json>& libraries = {}) {
  auto d = ResolveVariables(Read(project, libraries), OutputVariables{}, c);
  return d.Get(name).value_or("<unset>");
}

// --- reading ---

TEST(ReadFrozenVariablesTest, ReadsScopesPromptsAndSetsInOrder) {
  json project = {
      {"Variables", {Var("Port", "80", {{"Environment", {"Environments-1"}}, {"Role", {"web"}}})}}};
  project["Variables"][0]["Prompt"] = {{"Label", "Port?"}, {"Required", true}};
  auto f = Read(project, {json::array({Var("Shared", "x")})});
  ASSERT_EQ(f.variables.size(), 2u);
  EXPECT_EQ(f.variables[0].source, VariableSource::kProject);
  EXPECT_EQ(f.variables[0].scope.environments, std::vector<std::string>{"Environments-1"});
  EXPECT_EQ(f.variables[0].scope.roles, std::vector<std::string>{"web"});
  ASSERT_TRUE(f.variables[0].prompt.has_value());
  EXPECT_EQ(f.variables[0].prompt->label, "Port?");
  EXPECT_TRUE(f.variables[0].prompt->required);
  EXPECT_EQ(f.variables[1].source, VariableSource::kLibrary);
  EXPECT_EQ(f.variables[1].value, "x");
}

TEST(ReadFrozenVariablesTest, OpensSealedValuesThroughTheCallbackAndKeepsThemSensitive) {
  json secret = {{"Id", "s"},
                 {"Name", "Password"},
                 {"Type", "Sensitive"},
                 {"IsSensitive", true},
                 {"SealedValue", "sealed:hunter2"},
                 {"Scope", json::object()}};
  auto open = [](const json& stored) -> Result<std::string> {
    return stored["SealedValue"].get<std::string>().substr(7);
  };
  auto f = ReadFrozenVariables(json::array({secret}), {}, open);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->variables[0].value, "hunter2");
  auto d = ResolveVariables(*f, OutputVariables{}, WebContext());
  ASSERT_NE(d.Find("password"), nullptr);
  EXPECT_TRUE(d.Find("password")->sensitive);
  EXPECT_EQ(d.SensitiveValues(), std::vector<std::string>{"hunter2"});
}

TEST(ReadFrozenVariablesTest, ASealedValueWithoutAnOpenerIsAnErrorNamingTheVariable) {
  json secret = {{"Name", "Password"}, {"IsSensitive", true}, {"SealedValue", "x"}};
  auto f = ReadFrozenVariables(json::array({secret}), {});
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message().find("Password"), std::string::npos);
}

TEST(ReadFrozenVariablesTest, AnOpenerFailureNamesTheVariable) {
  json secret = {{"Name", "Password"}, {"IsSensitive", true}, {"SealedValue", "x"}};
  auto f = ReadFrozenVariables(json::array({secret}), {}, [](const json&) -> Result<std::string> {
    return Fail(Error::InvalidArgument("bad tag"));
  });
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message().find("Password"), std::string::npos);
  EXPECT_NE(f.error().message().find("bad tag"), std::string::npos);
}

TEST(ReadFrozenVariablesTest, MalformedEntriesAreErrorsNamingTheirPlace) {
  auto no_name = ReadFrozenVariables(json::array({json{{"Value", "1"}}}), {});
  ASSERT_FALSE(no_name.has_value());
  EXPECT_NE(no_name.error().message().find("project set, Variables[0].Name"), std::string::npos);
  json bad_scope = Var("A", "1");
  bad_scope["Scope"] = {{"Environment", "Environments-1"}};
  auto scope = ReadFrozenVariables(json::array(), {json::array({bad_scope})});
  ASSERT_FALSE(scope.has_value());
  EXPECT_NE(scope.error().message().find("library set 1, Variables[0].Scope.Environment"),
            std::string::npos);
  EXPECT_FALSE(ReadFrozenVariables(json("nope"), {}).has_value());
}

// --- scope matching (§2.9) ---

TEST(ScopeMatchingTest, UnscopedValuesAlwaysApply) {
  EXPECT_EQ(Resolve(json::array({Var("A", "1")}), ScopeContext{}, "A"), "1");
}

TEST(ScopeMatchingTest, ValuesInsideOneKeyAreAlternatives) {
  json vars =
      json::array({Var("A", "env", {{"Environment", {"Environments-9", "Environments-2"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "env");
}

TEST(ScopeMatchingTest, EveryKeyMustMatch) {
  json vars =
      json::array({Var("A", "both", {{"Environment", {"Environments-2"}}, {"Role", {"db"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "<unset>");
  vars = json::array(
      {Var("A", "both", {{"Environment", {"Environments-2"}}, {"Role", {"DB", "Web"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "both");  // roles compare case-insensitively
}

TEST(ScopeMatchingTest, AKeyAbsentFromTheContextNeverMatches) {
  ScopeContext runbook = WebContext();
  runbook.channel_id.clear();
  EXPECT_EQ(Resolve(json::array({Var("A", "c", {{"Channel", {"Channels-1"}}})}), runbook, "A"),
            "<unset>");
  ScopeContext worker = WebContext();
  worker.machine_id.clear();
  worker.machine_roles.clear();
  EXPECT_EQ(Resolve(json::array({Var("A", "m", {{"Machine", {"Machines-1"}}})}), worker, "A"),
            "<unset>");
  EXPECT_EQ(Resolve(json::array({Var("A", "r", {{"Role", {"web"}}})}), worker, "A"), "<unset>");
  EXPECT_EQ(
      Resolve(json::array({Var("A", "t", {{"TenantTag", {"Region/EU"}}})}), WebContext(), "A"),
      "<unset>");
}

TEST(ScopeMatchingTest, EachKeyMatchesItsPartOfTheContext) {
  const ScopeContext c = WebContext();
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"Action", {"A-DEPLOY"}}})}), c, "A"), "1");
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"Action", {"a-other"}}})}), c, "A"), "<unset>");
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"ProcessOwner", {"Projects-1"}}})}), c, "A"), "1");
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"ProcessOwner", {"Runbooks-1"}}})}), c, "A"),
            "<unset>");
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"Machine", {"Machines-2"}}})}), c, "A"),
            "<unset>");
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"Channel", {"Channels-2"}}})}), c, "A"),
            "<unset>");
  ScopeContext tenanted = c;
  tenanted.tenant_tags = {"Region/EU"};
  EXPECT_EQ(Resolve(json::array({Var("A", "1", {{"TenantTag", {"region/eu"}}})}), tenanted, "A"),
            "1");
}

TEST(ScopeMatchingTest, NamesMatchCaseInsensitively) {
  json vars = json::array(
      {Var("Db.Name", "plain"), Var("DB.NAME", "prod", {{"Environment", {"Environments-2"}}})});
  auto d = ResolveVariables(Read(vars), OutputVariables{}, WebContext());
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.Get("db.name"), "prod");
}

// --- precedence (§2.9): one case per rule, each against the rule just below it ---

TEST(PrecedenceTest, ScopedBeatsUnscoped) {
  json vars = json::array({Var("A", "env", {{"ProcessOwner", {"Projects-1"}}}), Var("A", "none")});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "env");
}

TEST(PrecedenceTest, EnvironmentBeatsChannel) {
  json vars = json::array({Var("A", "channel", {{"Channel", {"Channels-1"}}}),
                           Var("A", "env", {{"Environment", {"Environments-2"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "env");
}

TEST(PrecedenceTest, ChannelBeatsProcessOwner) {
  json vars = json::array({Var("A", "owner", {{"ProcessOwner", {"Projects-1"}}}),
                           Var("A", "channel", {{"Channel", {"Channels-1"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "channel");
}

TEST(PrecedenceTest, TenantTagBeatsEnvironment) {
  ScopeContext c = WebContext();
  c.tenant_tags = {"Region/EU"};
  json vars = json::array({Var("A", "env", {{"Environment", {"Environments-2"}}}),
                           Var("A", "tag", {{"TenantTag", {"Region/EU"}}})});
  EXPECT_EQ(Resolve(vars, c, "A"), "tag");
}

TEST(PrecedenceTest, RoleBeatsTenantTagAndEnvironment) {
  ScopeContext c = WebContext();
  c.tenant_tags = {"Region/EU"};
  json vars = json::array(
      {Var("A", "env+tag", {{"Environment", {"Environments-2"}}, {"TenantTag", {"Region/EU"}}}),
       Var("A", "role", {{"Role", {"cache"}}})});
  EXPECT_EQ(Resolve(vars, c, "A"), "role");
}

TEST(PrecedenceTest, ARoleTheStepTargetsBeatsARoleOnlyOnTheMachine) {
  // "cache" is on the machine; "web" is on the machine and targeted by the step.
  json vars = json::array({Var("A", "machine role", {{"Role", {"cache"}}}),
                           Var("A", "target role", {{"Role", {"web"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "target role");
  json reversed = json::array({Var("A", "target role", {{"Role", {"web"}}}),
                               Var("A", "machine role", {{"Role", {"cache"}}})});
  EXPECT_EQ(Resolve(reversed, WebContext(), "A"), "target role");
}

TEST(PrecedenceTest, MachineBeatsTargetRole) {
  json vars =
      json::array({Var("A", "role", {{"Role", {"web"}}, {"Environment", {"Environments-2"}}}),
                   Var("A", "machine", {{"Machine", {"Machines-1"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "machine");
}

TEST(PrecedenceTest, ActionBeatsMachine) {
  json vars = json::array(
      {Var("A", "machine", {{"Machine", {"Machines-1"}}, {"Environment", {"Environments-2"}}}),
       Var("A", "action", {{"Action", {"a-deploy"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "action");
}

TEST(PrecedenceTest, MoreKeysOfTheSameKindsAreMoreSpecific) {
  json vars =
      json::array({Var("A", "env", {{"Environment", {"Environments-2"}}}),
                   Var("A", "env+channel",
                       {{"Environment", {"Environments-2"}}, {"Channel", {"Channels-1"}}})});
  EXPECT_EQ(Resolve(vars, WebContext(), "A"), "env+channel");
}

TEST(PrecedenceTest, OnATieTheProjectBeatsALibrarySet) {
  json library = json::array({Var("A", "library", {{"Environment", {"Environments-2"}}})});
  json project = json::array({Var("A", "project", {{"Environment", {"Environments-2"}}})});
  EXPECT_EQ(Resolve(project, WebContext(), "A", {library}), "project");
  // Rank still comes first: a more specific library value beats a less specific project one.
  json specific = json::array({Var("A", "library role", {{"Role", {"web"}}})});
  EXPECT_EQ(Resolve(project, WebContext(), "A", {specific}), "library role");
}

TEST(PrecedenceTest, RemainingTiesGoToTheEarlierLibrarySetThenTheEarlierDefinition) {
  json first = json::array({Var("A", "first")});
  json second = json::array({Var("A", "second")});
  EXPECT_EQ(Resolve(json::array(), WebContext(), "A", {first, second}), "first");
  json twice = json::array({Var("A", "one"), Var("A", "two")});
  EXPECT_EQ(Resolve(twice, WebContext(), "A"), "one");
}

TEST(PrecedenceTest, SystemVariablesBeatEveryUserValue) {
  json vars = json::array({Var("Octopus.Environment.Name", "mine", {{"Action", {"a-deploy"}}})});
  VariableDictionary system;
  system.Set("Octopus.Environment.Name", "Production");
  auto d = ResolveVariables(Read(vars), OutputVariables{}, WebContext(), system);
  EXPECT_EQ(d.Get("Octopus.Environment.Name"), "Production");
}

TEST(ScopeRankTest, FollowsTheReferenceScore) {
  ScopedVariable v;
  v.scope.environments = {"e"};
  v.scope.channels = {"c"};
  v.scope.process_owners = {"p"};
  EXPECT_EQ(ScopeRank(v, WebContext()), 111);
  v.scope.roles = {"cache"};
  EXPECT_EQ(ScopeRank(v, WebContext()), 10'111);
  v.scope.roles = {"cache", "web"};
  EXPECT_EQ(ScopeRank(v, WebContext()), 100'111);
  v.scope.machines = {"m"};
  v.scope.actions = {"a"};
  v.scope.tenant_tags = {"t"};
  EXPECT_EQ(ScopeRank(v, WebContext()), 11'101'111);
  v.answered = true;
  EXPECT_EQ(ScopeRank(v, WebContext()), 111'101'111);
}

// --- prompted variables ---

json Prompted(std::string name, std::string value, bool required, json scope = json::object()) {
  json v = Var(std::move(name), std::move(value), std::move(scope));
  v["Id"] = "id-" + v["Name"].get<std::string>();
  v["Prompt"] = {{"Label", "Label of " + v["Name"].get<std::string>()},
                 {"Description", ""},
                 {"Required", required}};
  return v;
}

TEST(PromptedVariableTest, TheFormValueReplacesTheValueAndBeatsScopedValues) {
  auto f = Read(json::array({Prompted("Version", "1.0", true),
                             Var("Version", "machine", {{"Machine", {"Machines-1"}}})}));
  ASSERT_TRUE(ApplyFormValues(f, {{"Version", "2.0"}}, WebContext()).has_value());
  auto d = ResolveVariables(f, OutputVariables{}, WebContext());
  EXPECT_EQ(d.Get("Version"), "2.0");
}

TEST(PromptedVariableTest, FormKeysMayBeTheIdTheNameOrTheLabelInAnyCase) {
  for (const char* key : {"ID-VERSION", "version", "label of version"}) {
    auto f = Read(json::array({Prompted("Version", "1.0", false)}));
    ASSERT_TRUE(ApplyFormValues(f, {{key, "2.0"}}, WebContext()).has_value());
    EXPECT_EQ(f.variables[0].value, "2.0") << key;
    EXPECT_TRUE(f.variables[0].answered) << key;
  }
}

TEST(PromptedVariableTest, WithoutAnAnswerTheDefaultIsAnOrdinaryValue) {
  auto f = Read(json::array({Prompted("Version", "1.0", true),
                             Var("Version", "env", {{"Environment", {"Environments-2"}}})}));
  ASSERT_TRUE(ApplyFormValues(f, json::object(), WebContext()).has_value());
  EXPECT_FALSE(f.variables[0].answered);
  EXPECT_EQ(ResolveVariables(f, OutputVariables{}, WebContext()).Get("Version"), "env");
}

TEST(PromptedVariableTest, ARequiredPromptWithoutValueIsAnErrorNamingIt) {
  auto f = Read(json::array({Prompted("Approver", "", true)}));
  auto r = ApplyFormValues(f, json::object(), WebContext());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "The prompted variable 'Label of Approver' (Approver) requires a value.");
  // A null answer is no answer.
  EXPECT_FALSE(ApplyFormValues(f, {{"Approver", nullptr}}, WebContext()).has_value());
}

TEST(PromptedVariableTest, EveryMissingRequiredPromptIsListed) {
  auto f = Read(
      json::array({Prompted("A", "", true), Prompted("B", "", true), Prompted("C", "", false)}));
  auto r = ApplyFormValues(f, json::object(), WebContext());
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(r.error().details().size(), 2u);
  EXPECT_NE(r.error().details()[0].find("(A)"), std::string::npos);
  EXPECT_NE(r.error().details()[1].find("(B)"), std::string::npos);
}

TEST(PromptedVariableTest, ARequiredPromptScopedElsewhereNeedsNoValue) {
  auto f = Read(json::array({Prompted("A", "", true, {{"Environment", {"Environments-9"}}})}));
  EXPECT_TRUE(ApplyFormValues(f, json::object(), WebContext()).has_value());
  // Per-target keys are not judged for the deployment as a whole: still required.
  auto g = Read(json::array({Prompted("B", "", true, {{"Role", {"db"}}})}));
  EXPECT_FALSE(ApplyFormValues(g, json::object(), WebContext()).has_value());
}

TEST(PromptedVariableTest, NonStringAnswersAreTextAndBadFormValuesAreRefused) {
  auto f = Read(json::array({Prompted("Flag", "", true)}));
  ASSERT_TRUE(ApplyFormValues(f, {{"Flag", true}}, WebContext()).has_value());
  EXPECT_EQ(f.variables[0].value, "True");
  EXPECT_FALSE(ApplyFormValues(f, json::array(), WebContext()).has_value());
}

// --- output variables (§3.7) ---

TEST(OutputVariablesTest, RecordsTheThreeNames) {
  OutputVariables out;
  out.Record("Build", "Machines-1", "web-01", "Port", "8080");
  ASSERT_EQ(out.variables().size(), 3u);
  EXPECT_EQ(out.variables()[0].name, "Octopus.Action[Build].Output[web-01].Port");
  EXPECT_TRUE(out.variables()[0].scope.empty());
  EXPECT_EQ(out.variables()[1].name, "Octopus.Action[Build].Output.Port");
  EXPECT_EQ(out.variables()[1].scope.machines, std::vector<std::string>{"Machines-1"});
  EXPECT_EQ(out.variables()[2].name, "Octopus.Action[Build].Output.Port");
  EXPECT_TRUE(out.variables()[2].scope.empty());
}

TEST(OutputVariablesTest, LaterStepsReadTheirMachinesValueAndOthersTheLastOne) {
  OutputVariables out;
  out.Record("Build", "Machines-1", "web-01", "Port", "8081");
  out.Record("Build", "Machines-2", "web-02", "Port", "8082");
  FrozenVariables none;
  ScopeContext on1 = WebContext();
  auto d1 = ResolveVariables(none, out, on1);
  EXPECT_EQ(d1.Get("Octopus.Action[Build].Output.Port"), "8081");
  EXPECT_EQ(d1.Get("Octopus.Action[Build].Output[web-02].Port"), "8082");
  ScopeContext worker;
  auto dw = ResolveVariables(none, out, worker);
  EXPECT_EQ(dw.Get("Octopus.Action[Build].Output.Port"), "8082");
  EXPECT_EQ(dw.Get("Octopus.Action[Build].Output[web-01].Port"), "8081");
}

TEST(OutputVariablesTest, RecordingAgainReplacesAndServerOutputsHaveOneName) {
  OutputVariables out;
  out.Record("Approve", "", "", "Manual.Notes", "ok");
  out.Record("Approve", "", "", "Manual.Notes", "fine", true);
  ASSERT_EQ(out.variables().size(), 1u);
  auto d = ResolveVariables(FrozenVariables{}, out, ScopeContext{});
  ASSERT_NE(d.Find("Octopus.Action[Approve].Output.Manual.Notes"), nullptr);
  EXPECT_EQ(d.Get("Octopus.Action[Approve].Output.Manual.Notes"), "fine");
  EXPECT_TRUE(d.Find("Octopus.Action[Approve].Output.Manual.Notes")->sensitive);
}

TEST(OutputVariablesTest, OnATieAnOutputBeatsAProjectValue) {
  OutputVariables out;
  out.Record("Build", "", "", "Port", "runtime");
  auto f = Read(json::array({Var("Octopus.Action[Build].Output.Port", "static")}));
  EXPECT_EQ(ResolveVariables(f, out, WebContext()).Get("Octopus.Action[Build].Output.Port"),
            "runtime");
}

// --- system variables (§3.8) ---

DeploymentFacts Facts() {
  DeploymentFacts f;
  f.space_id = "Spaces-1";
  f.space_name = "Default";
  f.project_id = "Projects-1";
  f.project_name = "Web";
  f.project_group_id = "ProjectGroups-1";
  f.project_group_name = "All";
  f.release_id = "Releases-3";
  f.release_number = "1.2.3";
  f.release_notes = "notes";
  f.release_created = 0;
  f.channel_id = "Channels-1";
  f.channel_name = "Default";
  f.previous_release = ReleaseRef{"Releases-2", "1.2.2"};
  f.environment_id = "Environments-2";
  f.environment_name = "Production";
  f.environment_sort_order = 3;
  f.deployment_id = "Deployments-7";
  f.deployment_name = "Deploy to Production";
  f.deployment_comments = "go";
  f.deployment_created = 1000;
  f.created_by = {"Users-1", "admin", "Admin", "admin@example.com"};
  f.machine_ids = {"Machines-1", "Machines-2"};
  f.specific_machine_ids = {"Machines-1"};
  f.machines_in_role["web"] = {"Machines-1", "Machines-2"};
  f.force_package_download = true;
  f.actions_skipped = {{"Smoke", true}, {"Deploy", false}};
  f.task_id = "ServerTasks-9";
  f.task_name = "Deploy";
  f.task_queue_time = 2000;
  f.task_arguments = {{"DeploymentId", "Deployments-7"}};
  f.server_uri = "https://deploy.example.com";
  return f;
}

TEST(SystemVariablesTest, DeploymentWideVariables) {
  auto d = SystemVariables({Facts(), std::nullopt, std::nullopt});
  EXPECT_EQ(d.Get("Octopus.Space.Name"), "Default");
  EXPECT_EQ(d.Get("Octopus.Project.Id"), "Projects-1");
  EXPECT_EQ(d.Get("Octopus.Project.Name"), "Web");
  EXPECT_EQ(d.Get("Octopus.ProjectGroup.Name"), "All");
  EXPECT_EQ(d.Get("Octopus.Release.Id"), "Releases-3");
  EXPECT_EQ(d.Get("Octopus.Release.Number"), "1.2.3");
  EXPECT_EQ(d.Get("Octopus.Release.Notes"), "notes");
  EXPECT_EQ(d.Get("Octopus.Release.Created"), "1970-01-01T00:00:00.000+00:00");
  EXPECT_EQ(d.Get("Octopus.Release.Channel.Name"), "Default");
  EXPECT_EQ(d.Get("Octopus.Release.Previous.Number"), "1.2.2");
  EXPECT_EQ(d.Get("Octopus.Release.Previous.Id"), "Releases-2");
  EXPECT_FALSE(d.Contains("Octopus.Release.PreviousForEnvironment.Number"));
  EXPECT_EQ(d.Get("Octopus.Environment.Name"), "Production");
  EXPECT_EQ(d.Get("Octopus.Environment.SortOrder"), "3");
  EXPECT_EQ(d.Get("Octopus.Environment.MachinesInRole[web]"), "Machines-1,Machines-2");
  EXPECT_EQ(d.Get("Octopus.Deployment.Id"), "Deployments-7");
  EXPECT_EQ(d.Get("Octopus.Deployment.Name"), "Deploy to Production");
  EXPECT_EQ(d.Get("Octopus.Deployment.Comments"), "go");
  EXPECT_EQ(d.Get("Octopus.Deployment.Created"), "1970-01-01T00:00:01.000+00:00");
  EXPECT_EQ(d.Get("Octopus.Deployment.CreatedBy.Username"), "admin");
  EXPECT_EQ(d.Get("Octopus.Deployment.CreatedBy.EmailAddress"), "admin@example.com");
  EXPECT_EQ(d.Get("Octopus.Deployment.Machines"), "Machines-1,Machines-2");
  EXPECT_EQ(d.Get("Octopus.Deployment.SpecificMachines"), "Machines-1");
  EXPECT_EQ(d.Get("Octopus.Deployment.ExcludedMachines"), "");
  EXPECT_EQ(d.Get("Octopus.Deployment.ForcePackageDownload"), "True");
  EXPECT_EQ(d.Get("Octopus.Deployment.Error"), "");
  EXPECT_EQ(d.Get("Octopus.Action[Smoke].IsSkipped"), "True");
  EXPECT_EQ(d.Get("Octopus.Action[Deploy].IsSkipped"), "False");
  EXPECT_EQ(d.Get("Octopus.Task.Id"), "ServerTasks-9");
  EXPECT_EQ(d.Get("Octopus.Task.QueueTime"), "1970-01-01T00:00:02.000+00:00");
  EXPECT_FALSE(d.Contains("Octopus.Task.QueueTimeExpiry"));
  EXPECT_EQ(d.Get("Octopus.Task.Argument[DeploymentId]"), "Deployments-7");
  EXPECT_EQ(d.Get("Octopus.Web.ServerUri"), "https://deploy.example.com");
  EXPECT_EQ(d.Get("Octopus.Web.BaseUrl"), "https://deploy.example.com");
  EXPECT_EQ(d.Get("Octopus.Web.ProjectLink"), "/app#/Spaces-1/projects/Projects-1");
  EXPECT_EQ(d.Get("Octopus.Web.ReleaseLink"), "/app#/Spaces-1/releases/Releases-3");
  EXPECT_EQ(d.Get("Octopus.Web.DeploymentLink"), "/app#/Spaces-1/deployments/Deployments-7");
  EXPECT_FALSE(d.Contains("Octopus.Machine.Id"));
  EXPECT_FALSE(d.Contains("Octopus.Action.Id"));
}

TEST(SystemVariablesTest, TheFirstFailureIsVisibleToLaterSteps) {
  DeploymentFacts f = Facts();
  f.error = "Step 'Deploy' failed";
  f.error_detail = "Step 'Deploy' failed\n  at line 3";
  auto d = SystemVariables({f, std::nullopt, std::nullopt});
  EXPECT_EQ(d.Get("Octopus.Deployment.Error"), "Step 'Deploy' failed");
  EXPECT_EQ(d.Get("Octopus.Deployment.ErrorDetail"), "Step 'Deploy' failed\n  at line 3");
}

TEST(SystemVariablesTest, StepActionAndMachineVariables) {
  StepFacts s;
  s.step_id = "s1";
  s.step_name = "Deploy";
  s.step_number = "2";
  s.action_id = "a1";
  s.action_name = "Deploy web";
  s.action_number = "2.1";
  s.target_roles = {"web", "api"};
  s.step_properties = {{"Octopus.Action.TargetRoles", "web,api"},
                       {"Octopus.Action.MaxParallelism", "2"}};
  s.action_properties = {{"Octopus.Action.Script.ScriptBody", "echo hi"},
                         {"Octopus.Action.Script.Syntax", "Bash"},
                         {"Octopus.Action.Id", "from a property"}};
  s.packages = {{"", "Acme.Web", "feeds-builtin", "1.0.0"},
                {"tools", "Acme.Tools", "feeds-builtin", "2.0.0"}};
  MachineFacts m{"Machines-1", "web-01", "web01.example.com", {"web", "cache"}};
  auto d = SystemVariables({Facts(), s, m});
  EXPECT_EQ(d.Get("Octopus.Step.Id"), "s1");
  EXPECT_EQ(d.Get("Octopus.Step.Name"), "Deploy");
  EXPECT_EQ(d.Get("Octopus.Step.Number"), "2");
  EXPECT_EQ(d.Get("Octopus.Action.Id"), "a1");  // the engine's fact, not the property
  EXPECT_EQ(d.Get("Octopus.Action.Name"), "Deploy web");
  EXPECT_EQ(d.Get("Octopus.Action.Number"), "2.1");
  EXPECT_EQ(d.Get("Octopus.Action.TargetRoles"), "web,api");
  EXPECT_EQ(d.Get("Octopus.Action.IsSkipped"), "False");
  EXPECT_EQ(d.Get("Octopus.Action.MaxParallelism"), "2");
  EXPECT_EQ(d.Get("Octopus.Action.Script.ScriptBody"), "echo hi");
  EXPECT_EQ(d.Get("Octopus.Action.Script.Syntax"), "Bash");
  EXPECT_EQ(d.Get("Octopus.Action.Package.PackageId"), "Acme.Web");
  EXPECT_EQ(d.Get("Octopus.Action.Package.PackageVersion"), "1.0.0");
  EXPECT_EQ(d.Get("Octopus.Action.Package.FeedId"), "feeds-builtin");
  EXPECT_EQ(d.Get("Octopus.Action.Package[tools].PackageVersion"), "2.0.0");
  EXPECT_EQ(d.Get("Octopus.Machine.Id"), "Machines-1");
  EXPECT_EQ(d.Get("Octopus.Machine.Name"), "web-01");
  EXPECT_EQ(d.Get("Octopus.Machine.Hostname"), "web01.example.com");
  EXPECT_EQ(d.Get("Octopus.Machine.Roles"), "web,cache");
  EXPECT_EQ(d.Get("Octopus.Tentacle.CurrentDeployment.TargetedRoles"), "web");
}

TEST(SystemVariablesTest, ResolvedWithUserVariablesTheyWin) {
  auto f = Read(json::array({Var("Octopus.Machine.Name", "spoofed"), Var("App", "x")}));
  MachineFacts m{"Machines-1", "web-01", "", {"web"}};
  auto d = ResolveVariables(f, OutputVariables{}, WebContext(),
                            SystemVariables({Facts(), std::nullopt, m}));
  EXPECT_EQ(d.Get("Octopus.Machine.Name"), "web-01");
  EXPECT_EQ(d.Get("App"), "x");
  EXPECT_FALSE(d.Contains("Octopus.Machine.Hostname"));
}

}  // namespace
}  // namespace cuttle::engine
