#include "model/variables.h"

#include <gtest/gtest.h>

namespace cuttle::model {
namespace {

using nlohmann::json;

class VariablesTest : public ::testing::Test {
 protected:
  crypto::SecretBox box_{crypto::MasterKey::Generate()};
  std::vector<std::string> problems_;
  VariableReferences refs_;
};

TEST_F(VariablesTest, SensitiveValuesAreSealedAndNeverShown) {
  json sent = json::array({{{"Name", "Password"}, {"Value", "s3cr3t-plain"}, {"Type", "Sensitive"}},
                           {{"Name", "Plain"}, {"Value", "visible"}}});
  json stored = MergeVariables(sent, json::array(), box_, problems_, refs_);
  ASSERT_TRUE(problems_.empty());
  EXPECT_EQ(stored.dump().find("s3cr3t-plain"), std::string::npos);
  EXPECT_TRUE(stored[0]["IsSensitive"].get<bool>());
  EXPECT_FALSE(stored[0].contains("Value"));
  EXPECT_EQ(VariableValue(stored[0], box_).value(), "s3cr3t-plain");
  EXPECT_EQ(VariableValue(stored[1], box_).value(), "visible");
  json shown = VariableJson(stored[0]);
  EXPECT_TRUE(shown["Value"].is_null());
  EXPECT_FALSE(shown.contains("SealedValue"));
  EXPECT_EQ(shown.dump().find("cv1:"), std::string::npos);
}

TEST_F(VariablesTest, NullSensitiveValueKeepsTheStoredOneOfTheSameId) {
  json first = MergeVariables(
      json::array({{{"Name", "Password"}, {"Value", "keep-me"}, {"IsSensitive", true}}}),
      json::array(), box_, problems_, refs_);
  json echoed = json::array({VariableJson(first[0])});  // what a client reads and sends back
  echoed[0]["Description"] = "edited";
  json second = MergeVariables(echoed, first, box_, problems_, refs_);
  ASSERT_TRUE(problems_.empty());
  EXPECT_EQ(second[0]["Id"], first[0]["Id"]);
  EXPECT_EQ(VariableValue(second[0], box_).value(), "keep-me");
  EXPECT_EQ(second[0]["Description"], "edited");
  // A new value replaces it; another id does not inherit it.
  echoed[0]["Value"] = "new";
  EXPECT_EQ(VariableValue(MergeVariables(echoed, first, box_, problems_, refs_)[0], box_).value(),
            "new");
  echoed[0]["Value"] = nullptr;
  echoed[0]["Id"] = "another";
  EXPECT_EQ(VariableValue(MergeVariables(echoed, first, box_, problems_, refs_)[0], box_).value(),
            "");
}

TEST_F(VariablesTest, ClientCannotPlantASealedValue) {
  json sent = json::array({{{"Name", "X"}, {"IsSensitive", true}, {"SealedValue", "cv1:forged"}}});
  json stored = MergeVariables(sent, json::array(), box_, problems_, refs_);
  EXPECT_FALSE(stored[0].contains("SealedValue"));
}

TEST_F(VariablesTest, ScopesAreCheckedAndCollected) {
  json sent = json::array(
      {{{"Name", "A"},
        {"Value", "1"},
        {"Scope",
         {{"environment", {"Environments-1"}}, {"Role", {"web"}}, {"Channel", {"Channels-2"}}}}},
       {{"Name", ""}, {"Scope", {{"Galaxy", {"x"}}}}}});
  json stored = MergeVariables(sent, json::array(), box_, problems_, refs_);
  EXPECT_EQ(stored[0]["Scope"]["Environment"], json::array({"Environments-1"}));
  EXPECT_EQ(refs_.environments, std::set<std::string>{"Environments-1"});
  EXPECT_EQ(refs_.channels, std::set<std::string>{"Channels-2"});
  ASSERT_EQ(problems_.size(), 2u);
  EXPECT_EQ(problems_[0], "Variables[1].Name is required.");
  EXPECT_NE(problems_[1].find("Variables[1].Scope.Galaxy is not a scope"), std::string::npos);
}

}  // namespace
}  // namespace cuttle::model
