// Cuttle's own tests of the template language: the behaviours the engine relies on, the edges
// around them, and what Cuttle adds (reports, the injected clock, caching). Octostache's own
// cases are in octostache_conformance_test.cc.
#include "engine/octostache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "engine/octostache/template.h"
#include "testing/fake_clock.h"

namespace cuttle::engine {
namespace {

using std::chrono::minutes;

class OctostacheTest : public ::testing::Test {
 protected:
  // 2026-11-27T02:41:25.123Z; the server at UTC+10:00.
  testing::FakeClock clock_{1'795'747'285'123};
  VariableDictionary vars_;

  EvalOptions Options(bool halt = true) {
    EvalOptions o;
    o.clock = &clock_;
    o.local_utc_offset = minutes(600);
    o.halt_on_parse_error = halt;
    return o;
  }

  std::string Eval(std::string_view tmpl, EvalReport* report = nullptr) {
    auto r = Evaluate(tmpl, vars_, report, Options());
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    return r.value_or("<error>");
  }
};

// ---- lookups ----------------------------------------------------------------------------------

TEST_F(OctostacheTest, TextWithoutTokensIsReturnedAsIs) {
  EvalReport report;
  EXPECT_EQ(Eval("plain # text {with} braces", &report), "plain # text {with} braces");
  EXPECT_TRUE(report.ok());
}

TEST_F(OctostacheTest, NamesAreCaseInsensitiveAndValuesAreTemplates) {
  vars_.Set("Server", "Web01");
  vars_.Set("Url", "http://#{server | ToLower}:#{Port}");
  vars_.Set("Port", "10933");
  EXPECT_EQ(Eval("#{URL}/api"), "http://web01:10933/api");
}

TEST_F(OctostacheTest, IndexersIncludingNestedSubstitutions) {
  vars_.Set("Servers[web01].Port", "8080");
  vars_.Set("StepName", "Deploy web");
  vars_.Set("Octopus.Action[Deploy web].Output.Url", "https://x");
  EXPECT_EQ(Eval("#{Servers[web01].Port}"), "8080");
  EXPECT_EQ(Eval("#{servers[WEB01].port}"), "8080");  // index keys ignore case too
  EXPECT_EQ(Eval("#{Octopus.Action[#{StepName}].Output.Url}"), "https://x");
}

TEST_F(OctostacheTest, AnIndexedNodeReadsAsItsKey) {
  vars_.Set("Octopus.Action[Package A].Name", "A");
  EXPECT_EQ(Eval("#{Octopus.Action[Package A]}"), "Package A");
}

TEST_F(OctostacheTest, UnknownVariablesAreEchoedAndReportedOnce) {
  EvalReport report;
  EXPECT_EQ(Eval("#{A} #{ B } #{A} #{C|ToUpper}", &report), "#{A} #{B} #{A} #{C | ToUpper}");
  EXPECT_EQ(report.unresolved, (std::vector<std::string>{"#{A}", "#{B}", "#{C | ToUpper}"}));
  EXPECT_EQ(report.Message(),
            "The following tokens were unable to be evaluated: '#{A}', '#{B}', '#{C | ToUpper}'");
}

TEST_F(OctostacheTest, UnresolvedTokensInsideValuesAreReportedToo) {
  vars_.Set("Protocol", "#{Proto}");
  EvalReport report;
  EXPECT_EQ(Eval("#{Protocol}://", &report), "#{Proto}://");
  EXPECT_EQ(report.unresolved, std::vector<std::string>{"#{Proto}"});
}

TEST_F(OctostacheTest, EchoRendersFilterOptionsQuoted) {
  vars_.Set("foo", "abc");
  EXPECT_EQ(Eval("#{foo | Match a b}"), "#{foo | Match \"a\" \"b\"}");
}

// ---- escapes ----------------------------------------------------------------------------------

TEST_F(OctostacheTest, DoubleHashEscapesATokenAndTripleHashKeepsOneHash) {
  vars_.Set("foo", "Abc");
  EXPECT_EQ(Eval("##{foo} ###{foo} ## #"), "#{foo} #Abc ## #");
}

TEST_F(OctostacheTest, PrintingAParsedTemplateEscapesLiteralTokenText) {
  auto parsed = octostache::ParseTemplate("a ##{b} #{c}", true);
  ASSERT_TRUE(parsed.tokens);
  EXPECT_EQ(octostache::Print(*parsed.tokens), "a ##{b} #{c}");
}

// ---- cycles -----------------------------------------------------------------------------------

TEST_F(OctostacheTest, SelfReferenceIsAnErrorNamingTheLoop) {
  vars_.Set("A", "x#{B}");
  vars_.Set("B", "#{C}");
  vars_.Set("C", "#{A}");
  auto r = Evaluate("#{A}", vars_, nullptr, Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("self referencing loop"), std::string::npos);
  // The loop is caught where the same token is met again: "#{A}" in C's value is spelled and
  // placed as the template's "#{A}".
  EXPECT_NE(r.error().message().find("(A -> B -> C -> A)"), std::string::npos)
      << r.error().message();
}

TEST_F(OctostacheTest, ACycleReachedOnlyInAnUntakenBranchIsNoError) {
  vars_.Set("Loop", "#{Loop}");
  vars_.Set("Flag", "False");
  EXPECT_EQ(Eval("#{if Flag}#{Loop}#{else}ok#{/if}"), "ok");
}

TEST_F(OctostacheTest, ACycleThroughAnIndexerIsCaught) {
  vars_.Set("X", "#{Y[#{X}]}");
  EXPECT_FALSE(Evaluate("#{X}", vars_, nullptr, Options()).has_value());
}

// ---- conditionals and truthiness --------------------------------------------------------------

TEST_F(OctostacheTest, TruthinessFollowsOctostache) {
  for (const char* falsy : {"", "0", "false", "False", " FALSE ", "no", "No", " no"}) {
    EXPECT_FALSE(IsTruthy(falsy)) << falsy;
  }
  for (const char* truthy : {"1", "true", "yes", "00", "nope", "0.0", " "}) {
    EXPECT_TRUE(IsTruthy(truthy)) << truthy;
  }
}

TEST_F(OctostacheTest, ConditionalsCompareExactlyAndCaseSensitively) {
  vars_.Set("Env", "Production");
  vars_.Set("Other", "Production");
  EXPECT_EQ(Eval("#{if Env == \"Production\"}p#{else}n#{/if}"), "p");
  EXPECT_EQ(Eval("#{if Env == \"production\"}p#{else}n#{/if}"), "n");
  EXPECT_EQ(Eval("#{if Env != \"Test\"}not test#{/if}"), "not test");
  EXPECT_EQ(Eval("#{if Env == Other}same#{/if}"), "same");
  EXPECT_EQ(Eval("#{unless Env == \"Test\"}u#{else}e#{/unless}"), "u");
  EXPECT_EQ(Eval("#{if Missing}x#{else}unknown is false#{/if}"), "unknown is false");
}

TEST_F(OctostacheTest, ElseifChains) {
  vars_.Set("N", "2");
  EXPECT_EQ(Eval("#{if N == \"1\"}one#{elseif N == \"2\"}two#{else}many#{/if}"), "two");
}

TEST_F(OctostacheTest, EvaluateTruthyIsFalseWhenAnythingIsUnresolved) {
  vars_.Set("Enabled", "#{Missing}");
  vars_.Set("On", "True");
  Evaluator e(vars_, Options());
  EXPECT_EQ(e.EvaluateTruthy("#{On}"), true);
  EXPECT_EQ(e.EvaluateTruthy("#{Enabled}"), false);  // "#{Missing}" is truthy text, but unresolved
  EXPECT_EQ(e.EvaluateTruthy("#{if On}False#{/if}"), false);
  EXPECT_EQ(e.EvaluateTruthy("#{Nope"), false);  // parse error
}

TEST_F(OctostacheTest, EvaluateFlagIsStrictBooleanNotTruthiness) {
  vars_.Set("A", "True");
  vars_.Set("B", "yes");
  vars_.Set("C", "#{A}");
  Evaluator e(vars_, Options());
  EXPECT_EQ(e.EvaluateFlag("A"), true);
  EXPECT_EQ(e.EvaluateFlag("B", false), false);
  EXPECT_EQ(e.EvaluateFlag("B", true), true);
  EXPECT_EQ(e.EvaluateFlag("C"), true);
  EXPECT_EQ(e.EvaluateFlag("Missing", true), true);
}

TEST_F(OctostacheTest, EvaluateVariableAndInt32) {
  vars_.Set("Count", " 42 ");
  vars_.Set("Name", "#{Count}x");
  Evaluator e(vars_, Options());
  EXPECT_EQ(e.EvaluateVariable("Name"), " 42 x");
  EXPECT_EQ(e.EvaluateVariable("Missing").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.EvaluateInt32("Count").value(), std::optional<int>(42));
  EXPECT_EQ(e.EvaluateInt32("Name").value(), std::nullopt);
}

TEST_F(OctostacheTest, NullFilterNullsTheWholeResult) {
  EvalReport report;
  EXPECT_EQ(Eval("before #{ | null} after", &report), "");
  EXPECT_TRUE(report.null_result);
  vars_.Set("V", "#{ | null}");
  EXPECT_EQ(Eval("#{V}", &report), "#{ | null}");  // only at the top level, as Octostache
  EXPECT_FALSE(report.null_result);
}

// ---- iteration --------------------------------------------------------------------------------

TEST_F(OctostacheTest, EachOverCommaSeparatedValuesKeepsSpaces) {
  vars_.Set("List", "a, b,c");
  EXPECT_EQ(Eval("#{each x in List}[#{x}]#{/each}"), "[a][ b][c]");
}

TEST_F(OctostacheTest, EachOverIndexedCollectionsUsesFirstDefinitionOrder) {
  vars_.Set("Octopus.Action[Zeta].Name", "Z");
  vars_.Set("Octopus.Action[Alpha].Name", "A");
  vars_.Set("Octopus.Action[Zeta].Port", "1");
  EXPECT_EQ(Eval("#{each a in Octopus.Action}#{a}=#{a.Name};#{/each}"), "Zeta=Z;Alpha=A;");
}

TEST_F(OctostacheTest, EachSpecialVariablesAndOuterNames) {
  vars_.Set("Servers", "web1,web2,web3");
  vars_.Set("Domain", "example.com");
  EXPECT_EQ(Eval("#{each s in Servers}#{s}.#{Domain}#{unless Octopus.Template.Each.Last},#{/unless}"
                 "#{/each}"),
            "web1.example.com,web2.example.com,web3.example.com");
  EXPECT_EQ(Eval("#{each s in Servers}#{if Octopus.Template.Each.First}[#{/if}"
                 "#{Octopus.Template.Each.Index}#{/each}"),
            "[012");
}

TEST_F(OctostacheTest, LoopVariableShadowsAndValuesSeeTheLoopItem) {
  vars_.Set("x", "outer");
  vars_.Set("L[k1].Label", "item #{x}");  // found through the loop scope, so x is the item
  vars_.Set("Plain", "#{x}");             // found at the top, so x is the variable
  EXPECT_EQ(Eval("#{each x in L}#{x.Label}|#{Plain}|#{x}#{/each} #{x}"), "item k1|outer|k1 outer");
}

TEST_F(OctostacheTest, EachOverJsonArraysAndObjects) {
  vars_.Set("Ports", "[80, 443]");
  vars_.Set("Sizes", R"({"S": {"Price": 1.5}, "L": {"Price": 3}})");
  EXPECT_EQ(Eval("#{each p in Ports}#{p};#{/each}"), "80;443;");
  EXPECT_EQ(Eval("#{each s in Sizes}#{s.Key}=#{s.Value.Price} #{/each}"), "S=1.5 L=3 ");
}

TEST_F(OctostacheTest, UnresolvedReferencesInALoopBodyAreEchoedEachTime) {
  vars_.Set("L", "a,b");
  EvalReport report;
  EXPECT_EQ(Eval("#{each i in L}#{i.Nope}#{/each}", &report), "#{i.Nope}#{i.Nope}");
  EXPECT_EQ(report.unresolved, std::vector<std::string>{"#{i.Nope}"});
}

// ---- JSON values ------------------------------------------------------------------------------

TEST_F(OctostacheTest, JsonPathsIntoValues) {
  vars_.Set("Config",
            R"({"Db": {"Host": "db1", "Ports": [5432, 5433]}, "Debug": true, "N": null})");
  EXPECT_EQ(Eval("#{Config.Db.Host}"), "db1");
  EXPECT_EQ(Eval("#{Config[Db][Ports][1]}"), "5433");
  EXPECT_EQ(Eval("#{Config.Db.Ports}"), "[5432,5433]");
  EXPECT_EQ(Eval("#{Config.Debug}"), "True");
  EXPECT_EQ(Eval("[#{Config.N}][#{Config.Missing}][#{Config.Db.Ports[9]}]"), "[][][]");
  // JSON property names are case-sensitive: `db` reads as "", and a path past "" is unknown.
  EXPECT_EQ(Eval("[#{Config.db}]#{Config.db.host}"), "[]#{Config.db.host}");
}

// ---- filters ----------------------------------------------------------------------------------

TEST_F(OctostacheTest, FiltersChainWithArgumentsAndNestedOptions) {
  vars_.Set("Name", "  My App  ");
  vars_.Set("Len", "4");
  EXPECT_EQ(Eval("#{Name | Trim | ToUpper | Replace \" \" _}"), "MY_APP");
  EXPECT_EQ(Eval("#{Name | Trim | Substring 3 3}"), "App");
  EXPECT_EQ(Eval("#{Name | Trim | Truncate #{Len}}"), "My A...");
  EXPECT_EQ(Eval("#{Name | Trim | Append \"-\" v2}"), "My App-v2");
}

TEST_F(OctostacheTest, EscapingFilters) {
  vars_.Set("T", "a<b>&\"c'/");
  EXPECT_EQ(Eval("#{T | HtmlEscape}"), "a&lt;b&gt;&amp;&quot;c&apos;&#x2F;");
  EXPECT_EQ(Eval("#{T | XmlEscape}"), "a&lt;b&gt;&amp;&quot;c&apos;/");
  vars_.Set("J", "C:\\dir \"x\"\n");
  EXPECT_EQ(Eval("#{J | JsonEscape}"), "C:\\\\dir \\\"x\\\"\\n");
  vars_.Set("U", "a b/ü");
  EXPECT_EQ(Eval("#{U | UriDataEscape}"), "a%20b%2F%C3%BC");
  EXPECT_EQ(Eval("#{U | UriEscape}"), "a%20b/%C3%BC");
}

TEST_F(OctostacheTest, UnicodeCaseMappingAndBase64) {
  vars_.Set("W", "Grüße");
  EXPECT_EQ(Eval("#{W | ToUpper}"), "GRÜßE");  // simple case mapping, as .NET's ToUpper
  EXPECT_EQ(Eval("#{W | ToLower}"), "grüße");
  EXPECT_EQ(Eval("#{W | ToBase64 | FromBase64}"), "Grüße");
  EXPECT_EQ(Eval("#{W | ToBase64 unicode | FromBase64 unicode}"), "Grüße");
  vars_.Set("Bad", "not base64!");
  EXPECT_EQ(Eval("#{Bad | FromBase64}"), "#{Bad | FromBase64}");
}

TEST_F(OctostacheTest, FormatNumbersAndDates) {
  vars_.Set("N", "1234.5");
  vars_.Set("D", "2030-05-22T09:05:07Z");
  EXPECT_EQ(Eval("#{N | Format N2}"), "1,234.50");
  // '#' cannot appear in a bare or "quoted" option; \"escaped quotes\" take anything.
  EXPECT_EQ(Eval("#{N | Format \\\"#,##0.0\\\"}"), "1,234.5");
  EXPECT_EQ(Eval("#{N | Format #,##0.0}"), "#{N | Format #,##0.0}");  // a parse error
  EXPECT_EQ(Eval("#{N | Format \"0000.000\"}"), "1234.500");
  EXPECT_EQ(Eval("#{N | Format F0}"), "1235");  // half away from zero
  EXPECT_EQ(Eval("#{N | Format Int32 D}"), "#{N | Format \"Int32\" \"D\"}");
  vars_.Set("I", "255");
  EXPECT_EQ(Eval("#{I | Format Int X4}"), "00FF");
  EXPECT_EQ(Eval("#{D | Format DateTimeOffset \"yyyy-MM-dd HH:mm:ss zzz\"}"),
            "2030-05-22 09:05:07 +00:00");
  // DateTime turns a zoned time into the server's (UTC+10).
  EXPECT_EQ(Eval("#{D | Format DateTime \"dddd d MMMM h:mm tt\"}"), "Wednesday 22 May 7:05 PM");
  EXPECT_EQ(Eval("#{D | Format DateTimeOffset u}"), "2030-05-22 09:05:07Z");
}

TEST_F(OctostacheTest, NowDateUsesTheInjectedClockAndZone) {
  EXPECT_EQ(Eval("#{ | NowDateUtc \"yyyy-MM-ddTHH:mm:ss\"}"), "2026-11-27T02:41:25");
  EXPECT_EQ(Eval("#{ | NowDate HH:mm}"), "12:41");
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(Eval("#{ | NowDate HH:mm}"), "13:41");
  vars_.Set("X", "y");
  EXPECT_EQ(Eval("#{X | NowDate}"), "#{X | NowDate}");  // NowDate takes no input
}

TEST_F(OctostacheTest, AnEvaluatorDoesNotFreezeNowDateInCachedValues) {
  vars_.Set("Stamp", "#{ | NowDate HH:mm}");
  Evaluator e(vars_, Options());
  EXPECT_EQ(e.Evaluate("#{Stamp}"), "12:41");
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_EQ(e.Evaluate("#{Stamp}"), "12:46");
}

TEST_F(OctostacheTest, TextComparisonFiltersReturnLowercaseBooleans) {
  vars_.Set("V", "release-2024.1");
  EXPECT_EQ(Eval("#{V | StartsWith release}"), "true");
  EXPECT_EQ(Eval("#{V | EndsWith \".2\"}"), "false");
  EXPECT_EQ(Eval("#{V | Contains 2024}"), "true");
  EXPECT_EQ(Eval("#{V | Match \"^release-\\d+\"}"), "true");
  EXPECT_EQ(Eval("#{if V | StartsWith release}yes#{/if}"), "yes");
}

TEST_F(OctostacheTest, ReplaceUsesRegularExpressionsWithGroups) {
  vars_.Set("V", "2024-11-27");
  EXPECT_EQ(Eval("#{V | Replace \"(\\d+)-(\\d+)-(\\d+)\" \"$3/$2/$1\"}"), "27/11/2024");
  EXPECT_EQ(Eval("#{V | Replace \"[\"}"), "#{V | Replace \"[\"}");  // an invalid pattern echoes
}

TEST_F(OctostacheTest, YamlAndPropertiesEscapes) {
  vars_.Set("Y", "it's\nhere");
  EXPECT_EQ(Eval("#{Y | YamlSingleQuoteEscape}"), "it''s\n\nhere");
  EXPECT_EQ(Eval("#{Y | YamlDoubleQuoteEscape}"), "it's\\nhere");
  vars_.Set("P", " key=a:b");
  EXPECT_EQ(Eval("#{P | PropertiesKeyEscape}"), "\\ key\\=a\\:b");
  EXPECT_EQ(Eval("#{P | PropertiesValueEscape}"), "\\ key=a:b");
}

TEST_F(OctostacheTest, MarkdownBasics) {
  vars_.Set("M", "# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n1. first\n2. second");
  EXPECT_EQ(
      Eval("#{M | Markdown}"),
      "<h1>Title</h1>\n<p>Some <strong>bold</strong> and <code>code</code>.</p>\n"
      "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"
      "\n");
  vars_.Set("C", "```sh\necho <hi>\n```\n> quoted\n\n---");
  EXPECT_EQ(Eval("#{C | Markdown}"),
            "<pre><code class=\"language-sh\">echo &lt;hi&gt;\n</code></pre>\n"
            "<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr />\n\n");
}

TEST_F(OctostacheTest, UriPartAndVersionFilters) {
  vars_.Set("U", "http://user@Example.com:8080/a%20b/c?x=1#top");
  EXPECT_EQ(Eval("#{U | UriPart Host}"), "example.com");
  EXPECT_EQ(Eval("#{U | UriPart Port}"), "8080");
  EXPECT_EQ(Eval("#{U | UriPart Authority}"), "example.com:8080");
  EXPECT_EQ(Eval("#{U | UriPart Path}"), "/a b/c");
  EXPECT_EQ(Eval("#{U | UriPart IsDefaultPort}"), "false");
  vars_.Set("V", "v2.5-beta.3+sha.1");
  EXPECT_EQ(Eval("#{V | VersionMajor}.#{V | VersionMinor}.#{V | VersionPatch}"), "2.5.0");
  EXPECT_EQ(Eval("#{V | VersionPreReleasePrefix}/#{V | VersionPreReleaseCounter}"), "beta/3");
  EXPECT_EQ(Eval("#{V | VersionMetadata}"), "sha.1");
}

TEST_F(OctostacheTest, HashFilters) {
  vars_.Set("S", "abc");
  EXPECT_EQ(Eval("#{S | Sha256}"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Eval("#{S | Md5 4}"), "90015098");
}

TEST_F(OctostacheTest, UnknownFiltersEchoTheWholeToken) {
  vars_.Set("S", "abc");
  EvalReport report;
  EXPECT_EQ(Eval("#{S | NoSuchFilter 1 | ToUpper}", &report),
            "#{S | NoSuchFilter \"1\" | ToUpper}");
  EXPECT_EQ(report.unresolved.size(), 1u);
}

// ---- calc -------------------------------------------------------------------------------------

TEST_F(OctostacheTest, CalcArithmeticPrecedenceAndVariables) {
  vars_.Set("Replicas", "3");
  vars_.Set("Max-Surge", "2");
  EXPECT_EQ(Eval("#{calc Replicas*2+1}"), "7");
  EXPECT_EQ(Eval("#{calc (Replicas+1)*2}"), "8");
  EXPECT_EQ(Eval("#{calc {Max-Surge}-1}"), "1");
  EXPECT_EQ(Eval("#{calc 10/4}"), "2.5");
  EXPECT_EQ(Eval("#{calc 1/0}"), "\u221E");
}

TEST_F(OctostacheTest, CalcWithAnUnknownOperandIsReported) {
  EvalReport report;
  EXPECT_EQ(Eval("#{calc Nope+1}", &report), "#{Nope+1}");
  EXPECT_EQ(report.unresolved, std::vector<std::string>{"#{Nope+1}"});
}

// ---- parse failures ---------------------------------------------------------------------------

TEST_F(OctostacheTest, AParseErrorReturnsTheTemplateUnchangedWhenHalting) {
  vars_.Set("A", "1");
  EvalReport report;
  EXPECT_EQ(Eval("#{A} #{B", &report), "#{A} #{B");
  EXPECT_FALSE(report.parse_error.empty());
  EXPECT_EQ(report.Message(), report.parse_error);
}

TEST_F(OctostacheTest, NonHaltingParsesKeepBadFragmentsAndEvaluateTheRest) {
  vars_.Set("A", "1");
  EvalReport report;
  auto out = Evaluate("x=#{A}; y=\"#{\" + #{A}; z=#{A", vars_, &report, Options(false));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "x=1; y=\"#{\" + 1; z=#{A");
  EXPECT_TRUE(report.parse_error.empty());
}

TEST_F(OctostacheTest, AValueThatDoesNotParseIsUsedRaw) {
  vars_.Set("Broken", "#{oops");
  EXPECT_EQ(Eval("[#{Broken}]"), "[#{oops]");
}

// Octostache's parser would explore these to any depth; Cuttle gives up past 100 levels, so a
// degenerate template is a parse error rather than a stack overflow or minutes of backtracking.
TEST_F(OctostacheTest, NestingPastTheLimitIsAParseError) {
  std::string deep_index = "#{A" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string unclosed;
  for (int i = 0; i < 20000; ++i) unclosed += "#{if A}";
  std::string deep_calc = "#{calc " + std::string(50000, '(') + "1" + std::string(50000, ')') + "}";
  for (const std::string& t : {deep_index, unclosed, deep_calc}) {
    for (bool halt : {true, false}) {
      EvalReport report;
      auto out = Evaluate(t, vars_, &report, Options(halt));
      ASSERT_TRUE(out.has_value());
      EXPECT_EQ(*out, t);
      EXPECT_NE(report.parse_error.find("more than 100 deep"), std::string::npos);
    }
  }
  // Nesting within the limit is fine.
  vars_.Set("A", "True");
  std::string nested;
  for (int i = 0; i < 90; ++i) nested += "#{if A}";
  nested += "in";
  for (int i = 0; i < 90; ++i) nested += "#{/if}";
  EXPECT_EQ(Eval(nested), "in");
}

// Random fragments of the grammar, evaluated both ways: no crash, and a halting parse either
// evaluates or returns the template untouched.
TEST_F(OctostacheTest, RandomTemplatesNeverCrash) {
  vars_.Set("A", "#{B}");
  vars_.Set("B", "x,y");
  vars_.Set("C[k].D", "{\"e\": [1, {\"f\": \"#{A}\"}]}");
  vars_.Set("Loop", "#{Loop}");
  const char* pieces[] = {
      "#{",       "}",         "##{",     "#",      "A",     "B",        "C",          "[k]",
      "[",        "]",         ".",       "D",      ".e",    "[1]",      ".f",         " | ",
      "ToUpper",  "Replace",   " \"a\" ", "\\\"",   "if ",   "unless ",  "each x in ", "#{/if}",
      "#{/each}", "#{else}",   "==",      "!=",     "calc ", "1+2",      "*",          "(",
      ")",        "{",         "Loop",    "x",      " ",     "\n",       "null",       "Format",
      "N2",       "#{elseif ", "|",       "Indent", "/3",    "Markdown", "@",          "é"};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> pick(0, std::size(pieces) - 1), len(1, 24);
  for (int i = 0; i < 4000; ++i) {
    std::string t;
    for (size_t k = len(rng); k > 0; --k) t += pieces[pick(rng)];
    for (bool halt : {true, false}) {
      EvalReport report;
      auto out = Evaluate(t, vars_, &report, Options(halt));
      if (out && halt && !report.parse_error.empty()) {
        EXPECT_EQ(*out, t);
      }
    }
  }
}

// ---- the evaluator ----------------------------------------------------------------------------

TEST_F(OctostacheTest, AnEvaluatorGivesTheSameAnswersAcrossCalls) {
  vars_.Set("A", "#{B}-#{C}");
  vars_.Set("B", "b");
  Evaluator e(vars_, Options());
  for (int i = 0; i < 3; ++i) {
    EvalReport report;
    EXPECT_EQ(e.Evaluate("#{A}", &report), "b-#{C}");
    EXPECT_EQ(report.unresolved, std::vector<std::string>{"#{C}"});  // cached values still report
  }
}

TEST_F(OctostacheTest, ARealisticConfigFile) {
  vars_.Set("Octopus.Environment.Name", "Production");
  vars_.Set("Db.Server", "sql-#{Octopus.Environment.Name | ToLower}");
  vars_.Set("Db.Name", "shop");
  vars_.Set("Features", "search,cart");
  std::string tmpl =
      "<connectionStrings>\n"
      "  <add name=\"Shop\" connectionString=\"Server=#{Db.Server};Database=#{Db.Name}\" />\n"
      "</connectionStrings>\n"
      "#{each f in Features}<feature name=\"#{f}\" />\n#{/each}"
      "#{if Octopus.Environment.Name == \"Production\"}<debug enabled=\"false\" />#{/if}";
  EXPECT_EQ(Eval(tmpl),
            "<connectionStrings>\n"
            "  <add name=\"Shop\" connectionString=\"Server=sql-production;Database=shop\" />\n"
            "</connectionStrings>\n"
            "<feature name=\"search\" />\n<feature name=\"cart\" />\n"
            "<debug enabled=\"false\" />");
}

}  // namespace
}  // namespace cuttle::engine
