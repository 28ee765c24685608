#include "engine/bootstrap.h"

#include <gtest/gtest.h>

namespace cuttle::engine {
namespace {

using namespace std::string_literals;

TEST(VariablesFileTest, HoldsNameAndValuePairsEachEndedByNul) {
  VariableDictionary v;
  v.Set("B", "two\nlines");
  v.Set("a", "");
  EXPECT_EQ(EncodeVariablesFile(v), "a\0\0B\0two\nlines\0"s) << "in the dictionary's order";
  EXPECT_EQ(EncodeVariablesFile({}), "");
}

TEST(VariablesFileTest, NulBytesAreDroppedAndANameOfOnlyNulsIsLeftOut) {
  VariableDictionary v;
  v.Set("na\0me"s, "va\0lue"s);
  v.Set("\0\0"s, "lost");
  EXPECT_EQ(EncodeVariablesFile(v), "name\0value\0"s);
}

TEST(BootstrapTest, EachReadsTheVariablesFromDescriptor3AndRunsItsScript) {
  EXPECT_NE(BashBootstrap().find("done <&3\nexec 3<&-\n"), std::string::npos);
  EXPECT_NE(PythonBootstrap().find("_load_variables(3)"), std::string::npos);
  EXPECT_NE(BashBootstrap().find("source ./script.sh"), std::string::npos);
  EXPECT_NE(PythonBootstrap().find("run_path('script.py'"), std::string::npos);
}

}  // namespace
}  // namespace cuttle::engine
