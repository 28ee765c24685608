#include "core/json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace cuttle::core {
namespace {

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonTest, ParsesWithinTheDepthLimit) {
  auto v = ParseJson(R"({"Name":"Noop","Arguments":{"a":[1,[2]]}})");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["Arguments"]["a"][1][0], 2);
  EXPECT_TRUE(ParseJson(Nested(kMaxJsonDepth)));
}

TEST(JsonTest, RefusesDeepNestingWithoutRecursing) {
  // Bug: a body nested 100,000 deep crashed the node (stack overflow when serialised again).
  auto v = ParseJson("{\"a\":" + Nested(100000) + "}");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message().find("nested more than 64 levels"), std::string::npos);
  EXPECT_FALSE(ParseJson(Nested(kMaxJsonDepth + 1)));
  EXPECT_TRUE(ParseJson(Nested(3), 3));
  EXPECT_FALSE(ParseJson(Nested(4), 3));
}

TEST(JsonTest, BracketsInsideStringsDoNotCount) {
  auto v = ParseJson("{\"s\":\"" + Nested(1000) + "\\\"[[[\"}");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["s"].get<std::string>().size(), 2000u + 4);
}

TEST(JsonTest, InvalidJsonIsAnError) {
  auto v = ParseJson("{\"a\":");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ParseJson(""));
}

TEST(JsonTest, SourcesParseJsonOnlyThroughParseJson) {
  // Every JSON body, present and future, must go through the depth limit: a direct nlohmann
  // parse anywhere in src/ would reopen the stack-overflow crash.
  namespace fs = std::filesystem;
  for (const auto& entry : fs::recursive_directory_iterator(CUTTLE_SOURCE_DIR)) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
    if (entry.path().filename() == "json.cc") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    for (const char* call : {"json::parse(", "json::sax_parse(", "json::from_"}) {
      EXPECT_EQ(text.str().find(call), std::string::npos)
          << entry.path() << " calls " << call << " directly; use core::ParseJson";
    }
  }
}

TEST(JsonTest, AppendJsonStringWritesWhatTheJsonLibraryWrites) {
  for (std::string s :
       {std::string("plain"), std::string("q\"b\\n\nr\rt\tb\bf\f"), std::string("ctl\x01\x1f"),
        std::string("caf\xc3\xa9 \xe2\x82\xac"), std::string("bad \xff\xfe utf8"), std::string()}) {
    std::string out = "x";
    AppendJsonString(out, s);
    std::string expected = "x";
    expected += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    EXPECT_EQ(out, expected) << s;
  }
}

TEST(JsonTest, MemberReadersNeverThrowAndMatchKeysIgnoringCase) {
  const auto doc = nlohmann::json::parse(
      R"({"Name":"web","isdisabled":"True","Count":3,"Null":null,"Flag":true})");
  EXPECT_EQ(StringMember(doc, "name"), "web");
  EXPECT_EQ(StringMember(doc, "Count"), "");
  EXPECT_TRUE(FlagMember(doc, "IsDisabled"));
  EXPECT_TRUE(FlagMember(doc, "flag"));
  EXPECT_FALSE(FlagMember(doc, "Null"));
  EXPECT_FALSE(FlagMember(doc, "Count"));
  EXPECT_EQ(FindKeyIgnoreCase(nlohmann::json::array(), "x"), nullptr);
}

}  // namespace
}  // namespace cuttle::core

namespace cuttle::core {
namespace {

// What a script produced can be any bytes: DumpJson replaces invalid UTF-8 where dump() throws.
TEST(JsonTest, DumpJsonReplacesInvalidUtf8InsteadOfThrowing) {
  nlohmann::json outputs = nlohmann::json::array({{{"Name", "X"}, {"Value", "caf\xe9 \xff"}}});
  EXPECT_THROW((void)outputs.dump(), nlohmann::json::type_error);
  EXPECT_EQ(DumpJson(outputs), "[{\"Name\":\"X\",\"Value\":\"caf\xef\xbf\xbd \xef\xbf\xbd\"}]");
  EXPECT_EQ(DumpJson({{"a", 1}}), "{\"a\":1}");
}

}  // namespace
}  // namespace cuttle::core
