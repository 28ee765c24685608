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

// Bug: Set built the map key from a string it had already moved into the Variable, so every
// name was stored under the empty key and only the first variable set was ever kept.
TEST(VariableDictionaryTest, DistinctNamesAreKeptApart) {
  VariableDictionary d;
  d.Set("B", "two");
  d.Set("a", "one");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d.Get("A"), "one");
  EXPECT_EQ(d.Get("b"), "two");
  std::vector<std::string> names;
  for (const auto& [key, v] : d) names.push_back(key + "=" + v.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a=a", "B=B"}));
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
