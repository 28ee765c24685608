#include "engine/service_messages.h"

#include <gtest/gtest.h>

namespace cuttle::engine {
namespace {

TEST(ServiceMessageTest, ParsesNameAndBase64Attributes) {
  auto m = ParseServiceMessage("##octopus[createArtifact path='L3RtcC9h' name='YS50eHQ=']");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "createArtifact");
  EXPECT_EQ(m->Get("path"), "/tmp/a");
  EXPECT_EQ(m->Get("name"), "a.txt");
  EXPECT_FALSE(m->Get("length"));
  auto level = ParseServiceMessage("  ##octopus[stdout-warning]\r");
  ASSERT_TRUE(level);
  EXPECT_EQ(level->name, "stdout-warning");
  EXPECT_TRUE(level->attributes.empty());
}

TEST(ServiceMessageTest, RefusesWhatIsNotOneWholeMessage) {
  EXPECT_FALSE(ParseServiceMessage("hello ##octopus[x]"));
  EXPECT_FALSE(ParseServiceMessage("##octopus[createArtifact path='unterminated]"));
  EXPECT_FALSE(ParseServiceMessage("##octopus[setVariable name=bare]"));
  EXPECT_FALSE(ParseServiceMessage("##octopus[]"));
  EXPECT_FALSE(ParseServiceMessage("##octopus[x"));
  EXPECT_FALSE(ParseServiceMessage(""));
  EXPECT_FALSE(ParseServiceMessage("#octopus[x]"));
}

TEST(ServiceMessageTest, AttributeNamesCompareCaseInsensitively) {
  auto m = ParseServiceMessage("##octopus[setVariable Name='YQ==' VALUE='Yg==']");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->Get("name"), "a");
  EXPECT_EQ(m->Get("value"), "b");
}

TEST(ServiceMessageTest, AValueThatIsNotBase64IsKeptAsWritten) {
  auto m = ParseServiceMessage("##octopus[progress percentage='5*' message='']");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->Get("percentage"), "5*");
  EXPECT_EQ(m->Get("message"), "");
}

TEST(ServiceMessageTest, FormatWritesWhatParseReads) {
  std::string line = FormatServiceMessage(
      "setVariable", {{"name", "Octopus.Action[A].Output.X"}, {"value", "it's ✓ ]['"}});
  EXPECT_TRUE(line.starts_with("##octopus[setVariable name='"));
  auto m = ParseServiceMessage(line);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "setVariable");
  EXPECT_EQ(m->Get("name"), "Octopus.Action[A].Output.X");
  EXPECT_EQ(m->Get("value"), "it's ✓ ]['");
  EXPECT_EQ(FormatServiceMessage("stdout-default", {}), "##octopus[stdout-default]");
}

}  // namespace
}  // namespace cuttle::engine
