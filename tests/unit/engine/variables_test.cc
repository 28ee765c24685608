#include "engine/variables.h"

#include <gtest/gtest.h>

namespace cuttle::engine {
namespace {

TEST(VariableDictionaryTest, NamesCompareCaseInsensitivelyAndKeepTheFirstSpelling) {
  VariableDictionary d;
  d.Set("Octopus.Environment.Name", "Dev");
  d.Set("octopus.environment.NAME", "Test");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.Get("OCTOPUS.ENVIRONMENT.NAME"), "Test");
  EXPECT_EQ(d.Find("octopus.environment.name")->name, "Octopus.Environment.Name");
  EXPECT_FALSE(d.Get("Missing").has_value());
  EXPECT_TRUE(d.Remove("OCTOPUS.environment.name"));
  EXPECT_TRUE(d.empty());
}

TEST(VariableDictionaryTest, SensitiveValuesListsOnlyNonEmptySensitiveOnes) {
  VariableDictionary d;
  d.Set("Password", "hunter2", true);
  d.Set("Empty", "", true);
  d.Set("Plain", "visible");
  EXPECT_EQ(d.SensitiveValues(), std::vector<std::string>{"hunter2"});
}

}  // namespace
}  // namespace cuttle::engine
