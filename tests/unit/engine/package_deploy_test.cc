#include "engine/package_deploy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "engine/package_fixtures.h"
#include "engine/variables.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using testing::Directory;
using ::testing::ElementsAre;
using testing::Entry;
using testing::File;
using ::testing::HasSubstr;
using testing::Kind;
using ::testing::Not;
using ::testing::Pair;
using testing::ReadFile;
using testing::WriteArchive;
using testing::WriteFile;

constexpr const char* kPolicySet = "Environments-1/Projects-1/Step-Web/Machines-1";

// The step runner as the package deployment sees it: a variable dictionary that scripts write
// to, a stand-in for Octostache that knows "#{Name}", and scripts whose behaviour each test sets.
class PackageDeployTest : public ::testing::Test {
 protected:
  // What a fake script does when it runs; returns its outcome.
  using ScriptBody = std::function<ScriptOutcome(const std::string& work_dir)>;

  PackageDeployTest() {
    vars_.Set("Octopus.Tentacle.Agent.ApplicationDirectoryPath", dir_.Sub("Applications"));
    vars_.Set("Octopus.Environment.Name", "Production");
    vars_.Set("Octopus.Environment.Id", "Environments-1");
    vars_.Set("Octopus.Project.Id", "Projects-1");
    vars_.Set("OctopusRetentionPolicySet", kPolicySet);
    vars_.Set("OctopusFreeDiskSpaceOverrideInMegaBytes", "1");
    vars_.Set("Port", "8080");
  }

  // A variable as the deployment sees it: what this run set, then the step's own.
  std::optional<std::string> Get(std::string_view name) const {
    if (auto v = run_vars_.Get(name)) return v;
    return vars_.Get(name);
  }

  // "#{Name}" becomes the variable's value; unknown names stay, and are reported.
  Substitution Evaluate(std::string_view text) const {
    Substitution out;
    size_t at = 0;
    while (at < text.size()) {
      const size_t open = text.find("#{", at);
      const size_t close = open == std::string_view::npos ? open : text.find('}', open);
      if (close == std::string_view::npos) {
        out.text.append(text.substr(at));
        break;
      }
      out.text.append(text.substr(at, open - at));
      const std::string name(text.substr(open + 2, close - open - 2));
      if (auto v = Get(name)) {
        out.text += *v;
      } else {
        out.text.append(text.substr(open, close - open + 1));
        out.error = "The following tokens were unable to be evaluated: '#{" + name + "}'";
      }
      at = close + 1;
    }
    return out;
  }

  PackageDeployOptions Options() {
    PackageDeployOptions o;
    o.variable = [this](std::string_view name) -> std::optional<std::string> {
      auto raw = Get(name);
      if (!raw) return std::nullopt;
      return Evaluate(*raw).text;
    };
    o.substitute = [this](std::string_view text) {
      calls_.push_back("substitute");
      return Evaluate(text);
    };
    o.run_script = [this](const std::string& path,
                          const std::string& work_dir) -> Result<ScriptOutcome> {
      const std::string name = fs::path(path).filename().string();
      EXPECT_EQ(fs::path(path).parent_path(), fs::path(work_dir)) << name;
      EXPECT_TRUE(fs::exists(path)) << name;
      calls_.push_back(name + " in " + Where(work_dir));
      script_text_[name] = ReadFile(path);
      if (auto it = scripts_.find(name); it != scripts_.end()) return it->second(work_dir);
      return ScriptOutcome{};
    };
    o.set_variable = [this](std::string_view name, std::string_view value, bool output) {
      run_vars_.Set(name, std::string(value));
      if (output) outputs_.emplace_back(name, value);
    };
    o.log = [this](DeployLogLevel level, std::string_view m) {
      if (level == DeployLogLevel::kWarning) warnings_.emplace_back(m);
      log_.emplace_back(m);
    };
    o.journal_path = dir_.Sub("home/DeploymentJournal.json");
    o.clock = &clock_;
    return o;
  }

  Result<PackageDeployResult> Deploy(const std::string& package,
                                     std::optional<TentacleRetention> retention = std::nullopt) {
    PackageDeployRequest request;
    request.package_path = package;
    request.package_id = "Acme.Web";
    request.package_version = "1.0.0";
    request.retention = retention;
    auto options = Options();
    if (syntaxes_) options.script_syntaxes = *syntaxes_;
    clock_.Advance(std::chrono::seconds(1));
    run_vars_ = VariableDictionary();  // each deployment of a step starts from its own variables
    return DeployPackage(request, options);
  }

  // A folder under the test's directory, or "custom".
  std::string Where(const std::string& dir) const {
    return fs::path(dir).lexically_relative(dir_.path()).string();
  }

  std::string Extracted(const std::string& leaf = "1.0.0") const {
    return dir_.Sub("Applications/Production/Acme.Web/" + leaf);
  }

  std::vector<JournalEntry> Journal() {
    auto all = DeploymentJournal(dir_.Sub("home/DeploymentJournal.json")).ReadAll();
    EXPECT_TRUE(all) << all.error().message();
    return all ? *all : std::vector<JournalEntry>{};
  }

  std::string Zip(const std::vector<Entry>& entries, const std::string& name = "Acme.Web.zip") {
    return WriteArchive(dir_.Sub("packages/" + name), Kind::kZip, entries);
  }

  void EnableFeatures(const std::string& features) {
    vars_.Set("Octopus.Action.EnabledFeatures", features);
  }

  cuttle::testing::TempDir dir_;
  cuttle::testing::FakeClock clock_;
  VariableDictionary vars_;      // the step's variables
  VariableDictionary run_vars_;  // what the current deployment set (set_variable)
  std::optional<std::vector<PackageScriptSyntax>> syntaxes_;
  std::map<std::string, ScriptBody> scripts_;
  std::map<std::string, std::string> script_text_;
  std::vector<std::string> calls_;
  std::vector<std::pair<std::string, std::string>> outputs_;
  std::vector<std::string> warnings_;
  std::vector<std::string> log_;
};

TEST_F(PackageDeployTest, ExtractsUnderEnvironmentPackageAndVersionAndReportsWhere) {
  auto result = Deploy(Zip({File("index.html", "<h1/>"), File("bin/app.dll", "MZ")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->extracted_to, Extracted());
  EXPECT_EQ(result->installation_directory, Extracted());
  EXPECT_EQ(result->extracted_file_count, 2);
  EXPECT_FALSE(result->copied_file_count);
  EXPECT_EQ(ReadFile(Extracted() + "/bin/app.dll"), "MZ");
  EXPECT_THAT(outputs_,
              ElementsAre(Pair("Octopus.Action.Package.InstallationDirectoryPath", Extracted()),
                          Pair("Package.InstallationDirectoryPath", Extracted()),
                          Pair("Package.ExtractedFileCount", "2")));
  EXPECT_EQ(result->output_variables, outputs_);
  EXPECT_EQ(Get("OctopusOriginalPackageDirectoryPath"), Extracted());
  // Without a custom directory, Calamari points the variable at the extraction directory.
  EXPECT_EQ(Get("Octopus.Action.Package.CustomInstallationDirectory"), Extracted());
}

TEST_F(PackageDeployTest, EachRedeployOfAVersionGetsTheNextNumberedFolder) {
  vars_.Set("Octopus.Deployment.Tenant.Name", "Contoso/EU");
  const std::string package =
      WriteArchive(dir_.Sub("packages/Acme.Web.1.0.0.tar.gz"), Kind::kTarGz, {File("a.txt", "a")});
  const std::string base = dir_.Sub("Applications/ContosoEU/Production/Acme.Web/1.0.0");
  for (const std::string& expected : {base, base + "_1", base + "_2"}) {
    auto result = Deploy(package);
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(result->extracted_to, expected);
    EXPECT_EQ(ReadFile(expected + "/a.txt"), "a");
  }
  // A file in the way counts as taken too.
  WriteFile(base + "_3", "not a folder");
  auto result = Deploy(package);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->extracted_to, base + "_4");
}

TEST_F(PackageDeployTest, ConventionsRunInOctopusOrder) {
  EnableFeatures(
      "Octopus.Features.CustomScripts,Octopus.Features.SubstituteInFiles,"
      "Octopus.Features.JsonConfigurationVariables");
  vars_.Set("Octopus.Action.CustomScripts.PreDeploy.sh", "echo configured pre #{Port}");
  vars_.Set("Octopus.Action.CustomScripts.Deploy.sh", "echo configured deploy");
  vars_.Set("Octopus.Action.CustomScripts.PostDeploy.sh", "echo configured post");
  vars_.Set("Octopus.Action.SubstituteInFiles.TargetFiles", "config.txt");
  vars_.Set("Octopus.Action.Package.JsonConfigurationVariablesTargets", "appsettings.json");
  vars_.Set("Server:Port", "9000");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", dir_.Sub("custom"));
  // Each script notes what the files looked like when it ran.
  std::map<std::string, std::string> seen;
  for (const char* script : {"PreDeploy.sh", "Deploy.sh", "PostDeploy.sh"}) {
    scripts_[script] = [&seen, script](const std::string& work_dir) {
      seen[script] =
          ReadFile(work_dir + "/config.txt") + " | " + ReadFile(work_dir + "/appsettings.json");
      return ScriptOutcome{};
    };
  }
  auto result = Deploy(Zip({File("PreDeploy.sh", "pre"), File("Deploy.sh", "deploy"),
                            File("PostDeploy.sh", "post"), File("config.txt", "port=#{Port}"),
                            File("appsettings.json", R"({"Server":{"Port":80}})")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_THAT(calls_,
              ElementsAre("Octopus.Action.CustomScripts.PreDeploy.sh in "
                          "Applications/Production/Acme.Web/1.0.0",
                          "PreDeploy.sh in Applications/Production/Acme.Web/1.0.0", "substitute",
                          "Deploy.sh in custom", "Octopus.Action.CustomScripts.Deploy.sh in custom",
                          "PostDeploy.sh in custom",
                          "Octopus.Action.CustomScripts.PostDeploy.sh in custom"));
  EXPECT_EQ(seen["PreDeploy.sh"], R"(port=#{Port} | {"Server":{"Port":80}})");
  EXPECT_EQ(seen["Deploy.sh"], "port=8080 | {\n  \"Server\": {\n    \"Port\": 9000\n  }\n}");
  // Configured scripts are evaluated, written as files named after their variable, then deleted.
  EXPECT_EQ(script_text_["Octopus.Action.CustomScripts.PreDeploy.sh"], "echo configured pre 8080");
  EXPECT_FALSE(fs::exists(Extracted() + "/Octopus.Action.CustomScripts.PreDeploy.sh"));
  EXPECT_FALSE(fs::exists(dir_.Sub("custom/Octopus.Action.CustomScripts.Deploy.sh")));
  // Packaged scripts are deleted after their stage (Deploy.sh was copied before it ran).
  EXPECT_FALSE(fs::exists(Extracted() + "/PreDeploy.sh"));
  EXPECT_FALSE(fs::exists(dir_.Sub("custom/Deploy.sh")));
  EXPECT_TRUE(fs::exists(Extracted() + "/Deploy.sh"));
  EXPECT_EQ(result->installation_directory, dir_.Sub("custom"));
}

TEST_F(PackageDeployTest, OnePackagedScriptPerStageByTheHostsPreference) {
  const std::string package =
      Zip({File("deploy.py", "py"), File("DEPLOY.sh", "sh"), File("Deploy.ps1", "ps"),
           File("sub/PostDeploy.sh", "not at the top"), File("Deploy.sh.txt", "not a script")});
  auto first = Deploy(package);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_THAT(calls_, ElementsAre("DEPLOY.sh in Applications/Production/Acme.Web/1.0.0"));
  // Every Deploy script goes after the stage; other files stay.
  EXPECT_FALSE(fs::exists(Extracted() + "/deploy.py"));
  EXPECT_TRUE(fs::exists(Extracted() + "/Deploy.ps1"));  // not a syntax this host runs
  EXPECT_TRUE(fs::exists(Extracted() + "/Deploy.sh.txt"));

  calls_.clear();
  syntaxes_ = std::vector{PackageScriptSyntax::kPython, PackageScriptSyntax::kBash};
  vars_.Set("OctopusDeleteScriptsOnCleanup", "False");
  auto second = Deploy(package);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->extracted_to, Extracted("1.0.0_1"));
  EXPECT_THAT(calls_, ElementsAre("deploy.py in Applications/Production/Acme.Web/1.0.0_1"));
  EXPECT_TRUE(fs::exists(Extracted("1.0.0_1") + "/deploy.py"));

  calls_.clear();
  vars_.Set("Octopus.Action.Package.RunScripts", "False");
  ASSERT_TRUE(Deploy(package));
  EXPECT_TRUE(calls_.empty());
}

TEST_F(PackageDeployTest, SubstitutesVariablesInTheFilesTheGlobsMatch) {
  EnableFeatures("Octopus.Features.SubstituteInFiles");
  vars_.Set("Octopus.Action.SubstituteInFiles.TargetFiles",
            "**/*.config\n  web/index.html  \n\nmissing/*.txt");
  const std::string crlf_bom = "\xEF\xBB\xBFport=#{Port}\r\n";
  auto result =
      Deploy(Zip({File("app.config", "a #{Port}"), File("conf/db.config", crlf_bom),
                  File("web/index.html", "<p>#{Port}</p>"),
                  File("web/other.html", "<p>#{Port}</p>"), File("readme.txt", "#{Port}")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(ReadFile(Extracted() + "/app.config"), "a 8080");
  EXPECT_EQ(ReadFile(Extracted() + "/conf/db.config"), "\xEF\xBB\xBFport=8080\r\n");
  EXPECT_EQ(ReadFile(Extracted() + "/web/index.html"), "<p>8080</p>");
  EXPECT_EQ(ReadFile(Extracted() + "/web/other.html"), "<p>#{Port}</p>");
  EXPECT_EQ(ReadFile(Extracted() + "/readme.txt"), "#{Port}");
  EXPECT_THAT(warnings_, Contains(HasSubstr("'missing/*.txt'")));

  warnings_.clear();
  vars_.Set("Octopus.Action.SubstituteInFiles.EnableNoMatchWarning", "False");
  vars_.Set("Octopus.Action.SubstituteInFiles.OutputEncoding", "utf-16");
  ASSERT_TRUE(Deploy(Zip({File("app.config", "x")})));
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(ReadFile(Extracted("1.0.0_1") + "/app.config"), std::string("\xFF\xFEx\0", 4));
}

TEST_F(PackageDeployTest, AnUnknownTokenFailsOnlyWhenAskedTo) {
  EnableFeatures("Octopus.Features.SubstituteInFiles");
  vars_.Set("Octopus.Action.SubstituteInFiles.TargetFiles", "*.config");
  const std::string package = Zip({File("app.config", "#{Port} #{Nope}")});
  ASSERT_TRUE(Deploy(package));
  EXPECT_EQ(ReadFile(Extracted() + "/app.config"), "8080 #{Nope}");
  EXPECT_THAT(log_, Contains(HasSubstr("#{Nope}")));

  vars_.Set("OctopusShouldFailDeploymentOnSubstitutionFails", "True");
  auto failed = Deploy(package);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("#{Nope}"));
}

TEST_F(PackageDeployTest, StructuredConfigurationReplacesJsonAndYaml) {
  EnableFeatures("Octopus.Features.JsonConfigurationVariables");
  vars_.Set("Octopus.Action.Package.JsonConfigurationVariablesTargets",
            "appsettings.json\nconfig/*.yml\nnone.json");
  vars_.Set("ConnectionStrings:Default", "Server=db;Port=#{Port}");
  vars_.Set("Features:Enabled", "true");
  vars_.Set("replicas", "3");
  auto result =
      Deploy(Zip({File("appsettings.json",
                       R"({"ConnectionStrings":{"Default":"local"},"Features":{"Enabled":false}})"),
                  File("config/app.yml", "replicas: 1  # how many\nname: web\n")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(ReadFile(Extracted() + "/appsettings.json"),
            "{\n  \"ConnectionStrings\": {\n    \"Default\": \"Server=db;Port=8080\"\n  },\n"
            "  \"Features\": {\n    \"Enabled\": true\n  }\n}");
  EXPECT_EQ(ReadFile(Extracted() + "/config/app.yml"), "replicas: 3  # how many\nname: web\n");
  EXPECT_THAT(warnings_, Contains(HasSubstr("'none.json'")));

  // A target that does not parse fails the deployment.
  auto failed = Deploy(Zip({File("appsettings.json", "{broken")}));
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("appsettings.json"));
}

TEST_F(PackageDeployTest, FeaturesThatAreNotEnabledDoNothing) {
  vars_.Set("Octopus.Action.SubstituteInFiles.TargetFiles", "*.config");
  vars_.Set("Octopus.Action.Package.JsonConfigurationVariablesTargets", "*.json");
  vars_.Set("Octopus.Action.CustomScripts.Deploy.sh", "echo never");
  vars_.Set("a", "2");
  ASSERT_TRUE(Deploy(Zip({File("app.config", "#{Port}"), File("s.json", R"({"a":1})")})));
  EXPECT_EQ(ReadFile(Extracted() + "/app.config"), "#{Port}");
  EXPECT_EQ(ReadFile(Extracted() + "/s.json"), R"({"a":1})");
  EXPECT_TRUE(calls_.empty());
}

TEST_F(PackageDeployTest, TheCustomDirectoryIsPurgedExceptExclusionsThenFilled) {
  const std::string custom = dir_.Sub("srv/site");
  WriteFile(custom + "/old.txt", "stale");
  WriteFile(custom + "/logs/today.log", "keep me");
  WriteFile(custom + "/uploads/a/b.png", "keep me too");
  WriteFile(custom + "/cache/x.tmp", "stale");
  WriteFile(custom + "/app.dll", "old build");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", custom + "/");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectoryShouldBePurgedBeforeDeployment",
            "True");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectoryPurgeExclusions", "logs\n**/*.png");
  auto result = Deploy(Zip({File("app.dll", "new build"), File("bin/tool.sh", "t", 0755)}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(ReadFile(custom + "/app.dll"), "new build");
  EXPECT_EQ(ReadFile(custom + "/bin/tool.sh"), "t");
  EXPECT_EQ(fs::status(custom + "/bin/tool.sh").permissions() & fs::perms::owner_exec,
            fs::perms::owner_exec);
  EXPECT_FALSE(fs::exists(custom + "/old.txt"));
  EXPECT_FALSE(fs::exists(custom + "/cache"));
  EXPECT_EQ(ReadFile(custom + "/logs/today.log"), "keep me");
  EXPECT_EQ(ReadFile(custom + "/uploads/a/b.png"), "keep me too");
  EXPECT_EQ(result->copied_file_count, 2);
  EXPECT_EQ(result->installation_directory, custom);
  EXPECT_THAT(outputs_, Contains(Pair("Octopus.Action.Package.InstallationDirectoryPath", custom)));
  EXPECT_THAT(outputs_, Contains(Pair("Package.CopiedFileCount", "2")));
  // The extraction folder stays, and the journal points at both.
  EXPECT_TRUE(fs::exists(Extracted() + "/app.dll"));
  ASSERT_EQ(Journal().size(), 1u);
  EXPECT_EQ(Journal()[0].custom_installation_directory, custom + "/");
}

TEST_F(PackageDeployTest, WithoutPurgeTheCustomDirectoryKeepsItsFiles) {
  const std::string custom = dir_.Sub("srv/site");
  WriteFile(custom + "/old.txt", "stays");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", custom);
  ASSERT_TRUE(Deploy(Zip({File("app.dll", "x")})));
  EXPECT_EQ(ReadFile(custom + "/old.txt"), "stays");
  EXPECT_EQ(ReadFile(custom + "/app.dll"), "x");
}

TEST_F(PackageDeployTest, TheCustomDirectoryMustBeAbsoluteAndOutsideTheExtraction) {
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", "relative/dir");
  auto relative = Deploy(Zip({File("a.txt", "a")}));
  ASSERT_FALSE(relative);
  EXPECT_THAT(relative.error().message(), HasSubstr("relative path"));

  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory",
            dir_.Sub("Applications/Production/Acme.Web/1.0.0_1/inner"));
  auto inside = Deploy(Zip({File("a.txt", "a")}));
  ASSERT_FALSE(inside);
  EXPECT_THAT(inside.error().message(), HasSubstr("child directory"));

  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", "/");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectoryShouldBePurgedBeforeDeployment",
            "True");
  auto root = Deploy(Zip({File("a.txt", "a")}));
  ASSERT_FALSE(root);
  EXPECT_THAT(root.error().message(), HasSubstr("root of the file system"));
}

TEST_F(PackageDeployTest, AFailedConventionRunsDeployFailedAndJournalsTheFailure) {
  scripts_["Deploy.sh"] = [](const std::string&) { return ScriptOutcome{3, false}; };
  std::string last_error;
  scripts_["DeployFailed.sh"] = [this, &last_error](const std::string&) {
    last_error = Get("OctopusLastErrorMessage").value_or("");
    return ScriptOutcome{};
  };
  auto result = Deploy(Zip({File("Deploy.sh", "exit 3"), File("DeployFailed.sh", "cleanup"),
                            File("PostDeploy.sh", "never")}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr("returned non-zero exit code: 3"));
  EXPECT_THAT(calls_, ElementsAre("Deploy.sh in Applications/Production/Acme.Web/1.0.0",
                                  "DeployFailed.sh in Applications/Production/Acme.Web/1.0.0"));
  EXPECT_EQ(last_error, result.error().message());
  EXPECT_FALSE(fs::exists(Extracted() + "/DeployFailed.sh"));
  auto journal = Journal();
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_FALSE(journal[0].was_successful);
  EXPECT_EQ(journal[0].extracted_to, Extracted());
}

TEST_F(PackageDeployTest, DeployFailedRunsInTheCustomDirectoryOnceItIsTheWorkingOne) {
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", dir_.Sub("custom"));
  scripts_["PostDeploy.sh"] = [](const std::string&) { return ScriptOutcome{1, false}; };
  scripts_["DeployFailed.sh"] = [](const std::string&) { return ScriptOutcome{7, false}; };
  auto result = Deploy(Zip({File("PostDeploy.sh", "exit 1"), File("DeployFailed.sh", "x")}));
  ASSERT_FALSE(result);
  // The original error is the one returned; the rollback's own failure is only logged.
  EXPECT_THAT(result.error().message(), HasSubstr("PostDeploy.sh"));
  EXPECT_THAT(calls_, ElementsAre("PostDeploy.sh in custom", "DeployFailed.sh in custom"));
  EXPECT_THAT(log_, Contains(HasSubstr("non-zero exit code: 7")));
  EXPECT_TRUE(fs::exists(dir_.Sub("custom/DeployFailed.sh")));  // kept: its rollback failed
}

TEST_F(PackageDeployTest, DeployFailedRunsEvenWithPackagedScriptsTurnedOff) {
  EnableFeatures("Octopus.Features.CustomScripts");
  vars_.Set("Octopus.Action.Package.RunScripts", "False");
  vars_.Set("Octopus.Action.CustomScripts.Deploy.sh", "exit 1");
  scripts_["Octopus.Action.CustomScripts.Deploy.sh"] = [](const std::string&) {
    return ScriptOutcome{1, false};
  };
  auto result = Deploy(Zip({File("Deploy.sh", "never"), File("DeployFailed.sh", "rollback")}));
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("Deploy script returned non-zero exit code: 1"));
  EXPECT_THAT(calls_, ElementsAre("Octopus.Action.CustomScripts.Deploy.sh in "
                                  "Applications/Production/Acme.Web/1.0.0",
                                  "DeployFailed.sh in Applications/Production/Acme.Web/1.0.0"));
  // A configured script that failed stays, for whoever investigates.
  EXPECT_TRUE(fs::exists(Extracted() + "/Octopus.Action.CustomScripts.Deploy.sh"));
}

TEST_F(PackageDeployTest, OnSuccessDeployFailedIsDeletedWithoutRunning) {
  ASSERT_TRUE(Deploy(Zip({File("DeployFailed.sh", "x"), File("DeployFailed.py", "y")})));
  EXPECT_TRUE(calls_.empty());
  EXPECT_FALSE(fs::exists(Extracted() + "/DeployFailed.sh"));
  EXPECT_FALSE(fs::exists(Extracted() + "/DeployFailed.py"));
  ASSERT_EQ(Journal().size(), 1u);
  EXPECT_TRUE(Journal()[0].was_successful);
}

TEST_F(PackageDeployTest, ScriptErrorOutputFailsOnlyWhenAskedTo) {
  scripts_["Deploy.sh"] = [](const std::string&) { return ScriptOutcome{0, true}; };
  const std::string package = Zip({File("Deploy.sh", "echo oops >&2")});
  ASSERT_TRUE(Deploy(package));
  vars_.Set("Octopus.Action.FailScriptOnErrorOutput", "True");
  auto failed = Deploy(package);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("error output"));
}

TEST_F(PackageDeployTest, AConfiguredScriptInASyntaxTheHostCannotRunFails) {
  EnableFeatures("Octopus.Features.CustomScripts");
  vars_.Set("Octopus.Action.CustomScripts.PreDeploy.ps1", "Write-Host hi");
  auto failed = Deploy(Zip({File("a.txt", "a")}));
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message(), HasSubstr("PowerShell scripts are not supported"));
  EXPECT_TRUE(calls_.empty());
}

TEST_F(PackageDeployTest, AScriptCanSkipTheRemainingConventions) {
  EnableFeatures("Octopus.Features.SubstituteInFiles");
  vars_.Set("Octopus.Action.SubstituteInFiles.TargetFiles", "*.config");
  vars_.Set("Octopus.Action.Package.CustomInstallationDirectory", dir_.Sub("custom"));
  scripts_["PreDeploy.sh"] = [this](const std::string&) {
    // What the step runner does with ##octopus[setVariable name='...' value='True'].
    vars_.Set("Octopus.Action.SkipRemainingConventions", "True");
    return ScriptOutcome{};
  };
  auto result = Deploy(Zip({File("PreDeploy.sh", "x"), File("Deploy.sh", "y"),
                            File("DeployFailed.sh", "z"), File("app.config", "#{Port}")}));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_THAT(calls_, ElementsAre("PreDeploy.sh in Applications/Production/Acme.Web/1.0.0"));
  EXPECT_EQ(ReadFile(Extracted() + "/app.config"), "#{Port}");
  EXPECT_FALSE(fs::exists(dir_.Sub("custom")));
  EXPECT_EQ(result->installation_directory, Extracted());
  ASSERT_EQ(Journal().size(), 1u);
  EXPECT_TRUE(Journal()[0].was_successful);
}

TEST_F(PackageDeployTest, AnAlreadyInstalledPackageIsSkippedUnlessItsLastAttemptFailed) {
  const std::string package = Zip({File("Deploy.sh", "x")});
  ASSERT_TRUE(Deploy(package));
  vars_.Set("Octopus.Action.Package.SkipIfAlreadyInstalled", "True");
  calls_.clear();
  outputs_.clear();
  auto skipped = Deploy(package);
  ASSERT_TRUE(skipped) << skipped.error().message();
  EXPECT_TRUE(skipped->already_installed);
  EXPECT_EQ(skipped->installation_directory, Extracted());
  EXPECT_TRUE(skipped->extracted_to.empty());
  EXPECT_TRUE(calls_.empty());
  EXPECT_FALSE(fs::exists(Extracted("1.0.0_1")));
  EXPECT_THAT(outputs_,
              ElementsAre(Pair("Octopus.Action.Package.InstallationDirectoryPath", Extracted()),
                          Pair("Package.InstallationDirectoryPath", Extracted())));
  EXPECT_EQ(Journal().size(), 1u);  // a skip writes no entry

  // A failed attempt of that version does not count as installed.
  vars_.Remove("Octopus.Action.SkipRemainingConventions");
  vars_.Set("Octopus.Action.Package.SkipIfAlreadyInstalled", "False");
  scripts_["Deploy.sh"] = [](const std::string&) { return ScriptOutcome{1, false}; };
  ASSERT_FALSE(Deploy(package));
  scripts_.clear();
  vars_.Set("Octopus.Action.Package.SkipIfAlreadyInstalled", "True");
  auto redeployed = Deploy(package);
  ASSERT_TRUE(redeployed);
  EXPECT_FALSE(redeployed->already_installed);
  EXPECT_EQ(redeployed->extracted_to, Extracted("1.0.0_2"));
}

TEST_F(PackageDeployTest, TheJournalFeedsPreviousInstallationAndRetentionCleansOldFolders) {
  const std::string package = Zip({File("a.txt", "a")});
  const TentacleRetention keep_one{TentacleRetention::Unit::kItems, 1};
  ASSERT_TRUE(Deploy(package, keep_one));
  EXPECT_EQ(Get("Octopus.Tentacle.PreviousInstallation.OriginalInstalledPath"), "");
  ASSERT_TRUE(Deploy(package, keep_one));
  EXPECT_EQ(Get("Octopus.Tentacle.PreviousInstallation.OriginalInstalledPath"), Extracted());
  EXPECT_EQ(Get("Octopus.Tentacle.PreviousSuccessfulInstallation.PackageVersion"), "1.0.0");
  EXPECT_EQ(Get("Octopus.Tentacle.PreviousInstallation.PackageFilePath"), package);
  ASSERT_TRUE(Deploy(package, keep_one));
  // The current deployment and one previous successful one stay.
  EXPECT_FALSE(fs::exists(Extracted()));
  EXPECT_TRUE(fs::exists(Extracted("1.0.0_1")));
  EXPECT_TRUE(fs::exists(Extracted("1.0.0_2")));
  auto journal = Journal();
  ASSERT_EQ(journal.size(), 2u);
  EXPECT_EQ(journal[0].extracted_to, Extracted("1.0.0_1"));
  EXPECT_EQ(journal[1].retention_policy_set, kPolicySet);
  EXPECT_EQ(journal[1].environment_id, "Environments-1");
  EXPECT_EQ(journal[1].project_id, "Projects-1");
  ASSERT_EQ(journal[1].packages.size(), 1u);
  EXPECT_EQ(journal[1].packages[0].package_id, "Acme.Web");
  // Without a policy nothing is deleted.
  auto fourth = Deploy(package);
  ASSERT_TRUE(fourth) << fourth.error().message();
  EXPECT_EQ(fourth->extracted_to, Extracted());  // free again
  EXPECT_EQ(Journal().size(), 3u);
}

TEST_F(PackageDeployTest, APackageThatEscapesItsFolderIsRefusedBeforeAnythingIsWritten) {
  auto result = Deploy(Zip({File("Deploy.sh", "x"), File("../../../evil.sh", "boom")}));
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr("refused"));
  EXPECT_FALSE(fs::exists(dir_.Sub("Applications/Production/Acme.Web")));
  EXPECT_FALSE(fs::exists(dir_.Sub("evil.sh")));
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(Journal().empty());

  auto link = Deploy(
      WriteArchive(dir_.Sub("packages/l.tar.gz"), Kind::kTarGz, {testing::Symlink("etc", "/etc")}));
  ASSERT_FALSE(link);
  EXPECT_THAT(link.error().message(), HasSubstr("symbolic link"));
}

TEST_F(PackageDeployTest, NupkgPackagesDeployWithoutNuGetsOwnFiles) {
  auto result = Deploy(Zip({File("[Content_Types].xml", "<Types/>"), File("Acme.Web.nuspec", "n"),
                            File("_rels/.rels", "r"), File("wwwroot/index.html", "hi")},
                           "Acme.Web.1.0.0.nupkg"));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->extracted_file_count, 1);
  EXPECT_EQ(ReadFile(Extracted() + "/wwwroot/index.html"), "hi");
  EXPECT_FALSE(fs::exists(Extracted() + "/Acme.Web.nuspec"));
}

TEST_F(PackageDeployTest, InputsThatCannotWorkAreClearErrors) {
  auto unknown = Deploy(WriteArchive(dir_.Sub("packages/a.rar"), Kind::kZip, {File("a", "a")}));
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message(), HasSubstr("not a package Cuttle can extract"));

  vars_.Set("OctopusFreeDiskSpaceOverrideInMegaBytes", "999999999");
  auto full = Deploy(Zip({File("a", "a")}));
  ASSERT_FALSE(full);
  EXPECT_THAT(full.error().message(), HasSubstr("free disk space"));
  vars_.Set("OctopusSkipFreeDiskSpaceCheck", "True");
  EXPECT_TRUE(Deploy(Zip({File("a", "a")})));

  vars_.Set("Octopus.Environment.Name", "..");
  auto dots = Deploy(Zip({File("a", "a")}));
  ASSERT_FALSE(dots);
  EXPECT_THAT(dots.error().message(), HasSubstr("environment name"));

  vars_.Remove("Octopus.Tentacle.Agent.ApplicationDirectoryPath");
  run_vars_ = VariableDictionary();
  PackageDeployRequest request;
  request.package_path = Zip({File("a", "a")});
  auto options = Options();
  auto no_id = DeployPackage(request, options);
  ASSERT_FALSE(no_id);
  EXPECT_THAT(no_id.error().message(), HasSubstr("package id and version"));
  vars_.Set("Octopus.Environment.Name", "Production");
  vars_.Set("Octopus.Action.Package.PackageId", "From.Variables");
  vars_.Set("Octopus.Action.Package.PackageVersion", "2.0.0");
  auto no_root = DeployPackage(request, options);
  ASSERT_FALSE(no_root);
  EXPECT_THAT(no_root.error().message(), HasSubstr("ApplicationDirectoryPath"));
  options.home_directory = dir_.Sub("home");
  auto from_home = DeployPackage(request, options);
  ASSERT_TRUE(from_home) << from_home.error().message();
  EXPECT_EQ(from_home->extracted_to, dir_.Sub("home/Applications/Production/From.Variables/2.0.0"));
}

}  // namespace
}  // namespace cuttle::engine
