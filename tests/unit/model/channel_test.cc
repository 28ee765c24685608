#include "model/channel.h"

#include <gtest/gtest.h>

namespace cuttle::model {
namespace {

feed::Version V(const char* text) { return feed::Version::Parse(text).value(); }

bool Matches(const char* version, const char* range, const char* tag = "") {
  auto r = VersionMatchesRule(V(version), range, tag);
  EXPECT_TRUE(r) << range << " " << tag;
  return r && *r;
}

TEST(VersionRangeTest, BareVersionIsAnInclusiveMinimum) {
  EXPECT_TRUE(Matches("1.0.0", "1.0"));
  EXPECT_TRUE(Matches("7.3.1", "1.0"));
  EXPECT_FALSE(Matches("0.9.9", "1.0"));
}

TEST(VersionRangeTest, BracketsSetInclusiveAndExclusiveBounds) {
  EXPECT_TRUE(Matches("1.0.0", "[1.0,2.0)"));
  EXPECT_TRUE(Matches("1.9.9", "[1.0,2.0)"));
  EXPECT_FALSE(Matches("2.0.0", "[1.0,2.0)"));
  EXPECT_FALSE(Matches("1.0.0", "(1.0,2.0]"));
  EXPECT_TRUE(Matches("2.0", "(1.0,2.0]"));
  EXPECT_TRUE(Matches("1.0", "(,1.0]"));
  EXPECT_FALSE(Matches("1.0.1", "(,1.0]"));
  EXPECT_FALSE(Matches("1.0", "(,1.0)"));
  EXPECT_TRUE(Matches("1.0.1", "(1.0,)"));
  EXPECT_FALSE(Matches("1.0", "(1.0,)"));
  EXPECT_TRUE(Matches("1.2.0.0", "[1.2]"));
  EXPECT_FALSE(Matches("1.2.1", "[1.2]"));
  EXPECT_TRUE(Matches("99.0.0", ""));
}

TEST(VersionRangeTest, PreReleasesSortBeforeTheirRelease) {
  EXPECT_FALSE(Matches("2.0.0-beta", "[2.0,3.0)"));
  EXPECT_TRUE(Matches("2.0.0-beta", "[1.0,2.0)"));
}

TEST(VersionRangeTest, RefusesMalformedRanges) {
  for (const char* bad : {"[1.0", "(1.0)", "[,1.0]", "(1.0,]", "(,)", "[2.0,1.0]", "[1.0,2.0,3.0]",
                          "abc", "[a,b]", "(1.0,1.0)"}) {
    EXPECT_FALSE(VersionRange::Parse(bad)) << bad;
    EXPECT_TRUE(RuleProblem(bad, "").has_value()) << bad;
  }
  EXPECT_FALSE(RuleProblem("[1.0,2.0)", "^beta").has_value());
}

TEST(ChannelRuleTest, TagIsSearchedInThePreReleaseAndMetadata) {
  EXPECT_TRUE(Matches("1.0.0-beta.1", "", "beta"));
  EXPECT_FALSE(Matches("1.0.0-alpha.1", "", "^beta"));
  EXPECT_TRUE(Matches("1.0.0", "", "^$"));
  EXPECT_FALSE(Matches("1.0.0-rc1", "", "^$"));
  EXPECT_TRUE(Matches("1.0.0-rc1+build.7", "", "build\\.7$"));
  EXPECT_TRUE(Matches("1.0.0+sha.5", "", "sha"));
  // Both must hold.
  EXPECT_FALSE(Matches("3.0.0-beta", "[1.0,2.0)", "beta"));
}

TEST(ChannelRuleTest, BadPatternIsAnError) {
  EXPECT_FALSE(VersionMatchesRule(V("1.0.0"), "", "(unclosed"));
  EXPECT_TRUE(RuleProblem("", "(unclosed").has_value());
}

}  // namespace
}  // namespace cuttle::model
