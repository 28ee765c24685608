#include "engine/structured_config.h"

#include <gtest/gtest.h>

#include "engine/package_fixtures.h"
#include "engine/variables.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

using testing::ReadFile;
using testing::WriteFile;

VariableLookup Lookup(const VariableDictionary& vars) {
  return [&vars](std::string_view name) { return vars.Get(name); };
}

std::string Json(std::string_view text, const VariableDictionary& vars) {
  auto r = ReplaceJsonVariables(text, Lookup(vars));
  EXPECT_TRUE(r) << r.error().message();
  return r ? r->text : "";
}

std::string Yaml(std::string_view text, const VariableDictionary& vars) {
  auto r = ReplaceYamlVariables(text, Lookup(vars));
  EXPECT_TRUE(r) << r.error().message();
  return r ? r->text : "";
}

// ---- JSON ----

TEST(JsonReplaceTest, ColonPathsReplaceExistingNodesCaseInsensitively) {
  VariableDictionary vars;
  vars.Set("logging:loglevel:default", "Warning");
  vars.Set("Servers:1:Port", "9090");
  vars.Set("Missing:Key", "ignored");
  auto r = ReplaceJsonVariables(
      R"({"Logging":{"LogLevel":{"Default":"Information"}},"Servers":[{"Port":1},{"Port":2}]})",
      Lookup(vars));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->replaced, 2);
  EXPECT_EQ(r->text,
            "{\n  \"Logging\": {\n    \"LogLevel\": {\n      \"Default\": \"Warning\"\n    }\n  },"
            "\n  \"Servers\": [\n    {\n      \"Port\": 1\n    },\n    {\n      \"Port\": 9090\n"
            "    }\n  ]\n}");
}

TEST(JsonReplaceTest, TheNodesTypeIsKeptWhereTheValueAllows) {
  VariableDictionary vars;
  vars.Set("int", "42");
  vars.Set("float", "2.5");
  vars.Set("notnumber", "lots");
  vars.Set("flag", "TRUE");
  vars.Set("notflag", "yes");
  vars.Set("str", "123");
  vars.Set("nothing", "x");
  EXPECT_EQ(Json(R"({"int":1,"float":1,"notnumber":1,"flag":false,"notflag":true,"str":"a",)"
                 R"("nothing":null})",
                 vars),
            "{\n  \"int\": 42,\n  \"float\": 2.5,\n  \"notnumber\": \"lots\",\n  \"flag\": true,"
            "\n  \"notflag\": \"yes\",\n  \"str\": \"123\",\n  \"nothing\": \"x\"\n}");
}

TEST(JsonReplaceTest, ObjectsAndArraysTakeTheValueAsJsonOrStayWithAWarning) {
  VariableDictionary vars;
  vars.Set("obj", R"({"new": [1, 2]})");
  vars.Set("obj:old", "child loses to its replaced parent");
  vars.Set("arr", "not json");
  vars.Set("arr:0", "7");
  auto r = ReplaceJsonVariables(R"({"obj":{"old":1},"arr":[1,2]})", Lookup(vars));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text,
            "{\n  \"obj\": {\n    \"new\": [\n      1,\n      2\n    ]\n  },\n  \"arr\": [\n"
            "    7,\n    2\n  ]\n}");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("arr"), std::string::npos);
}

TEST(JsonReplaceTest, RootArraysOctopusNamesCommentsAndLineEndings) {
  VariableDictionary vars;
  vars.Set("0:Name", "first");
  vars.Set("OctopusSecret", "no");
  vars.Set("Octopus:Setting", "yes");
  EXPECT_EQ(Json("[{\"Name\":\"a\"}]", vars), "[\n  {\n    \"Name\": \"first\"\n  }\n]");
  EXPECT_EQ(
      Json("{\"OctopusSecret\":\"keep\",\"Octopus\":{\"Setting\":\"old\"}}", vars),
      "{\n  \"OctopusSecret\": \"keep\",\n  \"Octopus\": {\n    \"Setting\": \"yes\"\n  }\n}");
  // Comments are accepted (and dropped); CRLF files stay CRLF; an empty file becomes {}.
  EXPECT_EQ(Json("{\r\n  // note\r\n  \"a\": 1\r\n}\r\n", vars), "{\r\n  \"a\": 1\r\n}");
  EXPECT_EQ(Json("", vars), "{}");
  EXPECT_FALSE(ReplaceJsonVariables("a: 1", Lookup(vars)));
}

// ---- YAML ----

TEST(YamlReplaceTest, ScalarsChangeAndEverythingElseKeepsItsText) {
  VariableDictionary vars;
  vars.Set("server:port", "8080");
  vars.Set("server:name", "web: one");  // must be quoted now
  vars.Set("servers:1", "b2");
  vars.Set("quoted", "it's");
  const std::string in =
      "# top comment\n"
      "server:\n"
      "  port: 80   # the port\n"
      "  name: web\n"
      "servers:\n"
      "  - a\n"
      "  - b   # second\n"
      "quoted: \"x\"\n"
      "other:   untouched\n";
  auto r = ReplaceYamlVariables(in, Lookup(vars));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->replaced, 4);
  EXPECT_EQ(r->text,
            "# top comment\n"
            "server:\n"
            "  port: 8080   # the port\n"
            "  name: 'web: one'\n"
            "servers:\n"
            "  - a\n"
            "  - b2   # second\n"
            "quoted: \"it's\"\n"
            "other:   untouched\n");
}

TEST(YamlReplaceTest, QuotingFollowsTheOriginalWhereTheValueAllows) {
  VariableDictionary vars;
  vars.Set("plain", "- list-looking");
  vars.Set("single", "two\nlines");
  vars.Set("flow:0", "a, b");
  vars.Set("block", "short");
  vars.Set("empty", "filled");
  EXPECT_EQ(Yaml("plain: x\nsingle: 'y'\nflow: [one, two]\nblock: |\n  long\n  text\nempty:\n"
                 "after: 1\n",
                 vars),
            "plain: '- list-looking'\nsingle: \"two\\nlines\"\nflow: ['a, b', two]\n"
            "block: \"short\"\nempty: filled\nafter: 1\n");
}

TEST(YamlReplaceTest, MappingsAndSequencesAreReplacedInFlowStyle) {
  VariableDictionary vars;
  vars.Set("db", "host: h\nport: 5432");
  vars.Set("db:host", "ignored: parent wins");
  vars.Set("list", "[x, y]");
  vars.Set("nested:inner", "{a: 1}");
  vars.Set("bad", "[unclosed");
  const std::string in =
      "db:\n"
      "  host: old   # c\n"
      "  user: u\n"
      "list:\n"
      "- 1\n"
      "- 2\n"
      "nested:\n"
      "  inner:\n"
      "    deep: true\n"
      "  keep: 1\n"
      "bad: [1, 2]\n";
  EXPECT_EQ(Yaml(in, vars),
            "db:\n"
            "  {host: h, port: 5432}\n"
            "list:\n"
            "  [x, y]\n"
            "nested:\n"
            "  inner:\n"
            "    {a: 1}\n"
            "  keep: 1\n"
            "bad: \"[unclosed\"\n");
}

TEST(YamlReplaceTest, AnchorsTagsAliasesAndDocuments) {
  VariableDictionary vars;
  vars.Set("base:size", "3");
  vars.Set("typed", "5");
  vars.Set("after", "changed");
  vars.Set("Octopus.Name", "reserved");
  const std::string in =
      "base: &b\n"
      "  size: 1\n"
      "copy: *b\n"
      "typed: !!str 4\n"
      "after: x\n"
      "Octopus.Name: kept\n"
      "---\n"
      "after: y\n";
  EXPECT_EQ(Yaml(in, vars),
            "base: &b\n"
            "  size: 3\n"
            "copy: *b\n"
            "typed: !!str 5\n"
            "after: changed\n"
            "Octopus.Name: kept\n"
            "---\n"
            "after: changed\n");
}

TEST(YamlReplaceTest, NonAsciiTextAndComplexKeys) {
  VariableDictionary vars;
  vars.Set("greeting", "héllo wörld");
  vars.Set("last", "ü");
  EXPECT_EQ(Yaml("naïve: ☃\ngreeting: hi\n? [a, b]\n: v\nlast: x\n", vars),
            "naïve: ☃\ngreeting: héllo wörld\n? [a, b]\n: v\nlast: ü\n");
  EXPECT_FALSE(ReplaceYamlVariables("a: [1, 2\nb: 3\n", Lookup(vars)));
}

TEST(YamlReplaceTest, CrLfFilesKeepTheirLineEndings) {
  VariableDictionary vars;
  vars.Set("b", "two");
  vars.Set("list", "[1]");
  EXPECT_EQ(Yaml("a: 1\r\nb: 2\r\nlist:\r\n- x\r\nc: 3\r\n", vars),
            "a: 1\r\nb: two\r\nlist:\r\n  [1]\r\nc: 3\r\n");
}

// ---- files ----

TEST(StructuredFileTest, FormatIsChosenByNameAndJsonIsTriedFirst) {
  cuttle::testing::TempDir dir;
  VariableDictionary vars;
  vars.Set("a:b", "2");
  WriteFile(dir.Sub("app.yaml"), "{\"a\": {\"b\": 1}}");
  auto json_in_yaml = ReplaceStructuredVariablesInFile(dir.Sub("app.yaml"), Lookup(vars), false);
  ASSERT_TRUE(json_in_yaml) << json_in_yaml.error().message();
  EXPECT_EQ(json_in_yaml->format, StructuredFormat::kJson);
  EXPECT_EQ(ReadFile(dir.Sub("app.yaml")), "{\n  \"a\": {\n    \"b\": 2\n  }\n}");

  WriteFile(dir.Sub("app.yml"), "a:\n  b: 1\n");
  auto yaml = ReplaceStructuredVariablesInFile(dir.Sub("app.yml"), Lookup(vars), false);
  ASSERT_TRUE(yaml);
  EXPECT_EQ(yaml->format, StructuredFormat::kYaml);
  EXPECT_EQ(ReadFile(dir.Sub("app.yml")), "a:\n  b: 2\n");

  WriteFile(dir.Sub("settings.conf"), "a:\n  b: 1\n");
  auto unknown = ReplaceStructuredVariablesInFile(dir.Sub("settings.conf"), Lookup(vars), false);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->format, StructuredFormat::kYaml);

  // JSON only: by name, or by the fallback flag.
  WriteFile(dir.Sub("bad.json"), "a:\n  b: 1\n");
  auto bad = ReplaceStructuredVariablesInFile(dir.Sub("bad.json"), Lookup(vars), false);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("bad.json"), std::string::npos);
  EXPECT_FALSE(ReplaceStructuredVariablesInFile(dir.Sub("app.yml"), Lookup(vars), true));
  WriteFile(dir.Sub("web.xml"), "<a><b>1</b></a>");
  auto xml = ReplaceStructuredVariablesInFile(dir.Sub("web.xml"), Lookup(vars), false);
  ASSERT_FALSE(xml);
  EXPECT_NE(xml.error().message().find("not supported"), std::string::npos);
}

TEST(StructuredFileTest, TheFilesEncodingIsKept) {
  cuttle::testing::TempDir dir;
  VariableDictionary vars;
  vars.Set("name", "é");
  WriteFile(dir.Sub("bom.json"), "\xEF\xBB\xBF{\"name\": \"x\"}");
  ASSERT_TRUE(ReplaceStructuredVariablesInFile(dir.Sub("bom.json"), Lookup(vars), false));
  EXPECT_EQ(ReadFile(dir.Sub("bom.json")), "\xEF\xBB\xBF{\n  \"name\": \"\xC3\xA9\"\n}");
}

}  // namespace
}  // namespace cuttle::engine
