#include "feed/version.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace cuttle::feed {
namespace {

Version V(std::string_view s) {
  auto v = Version::Parse(s);
  EXPECT_TRUE(v) << s << ": " << v.error().message();
  return v.value_or(*Version::Parse("0.0"));
}

TEST(VersionTest, TwoThreeAndFourPartSpellingsNameTheSameVersion) {
  EXPECT_EQ(V("1.0"), V("1.0.0"));
  EXPECT_EQ(V("1.0.0"), V("1.0.0.0"));
  EXPECT_EQ(V("1.0").Normalized(), "1.0.0");
  EXPECT_EQ(V("1.0.0.0").Normalized(), "1.0.0");
  EXPECT_EQ(V("1.2.3.4").Normalized(), "1.2.3.4");
  EXPECT_EQ(V("01.002.3").Normalized(), "1.2.3");
  EXPECT_NE(V("1.0.0.1"), V("1.0.0"));
}

TEST(VersionTest, PrereleaseAndMetadata) {
  EXPECT_TRUE(V("1.0.0-beta.2").IsPrerelease());
  EXPECT_FALSE(V("1.0.0+build.5").IsPrerelease());
  EXPECT_EQ(V("1.0.0-Beta.2+sha.abc").Normalized(), "1.0.0-Beta.2");
  EXPECT_EQ(V("1.0.0-Beta").Key(), "1.0.0-beta");
  // Build metadata does not take part in precedence; pre-release labels are case-blind (NuGet).
  EXPECT_EQ(V("1.0.0+a"), V("1.0.0+b"));
  EXPECT_EQ(V("1.0.0-BETA"), V("1.0.0-beta"));
  EXPECT_EQ(V("1.0.0-rc.1").original(), "1.0.0-rc.1");
}

TEST(VersionTest, OrderingFollowsSemVer2) {
  // semver.org §11 example, plus legacy four-part versions.
  const std::vector<std::string> ordered = {
      "0.9.9",      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
      "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
      "1.0.0",      "1.0.0.1",      "1.0.1",         "1.2.0",
      "1.10.0",     "2.0.0-0",      "2.0.0",         "10.0.0"};
  std::vector<Version> shuffled;
  for (const auto& s : ordered) shuffled.push_back(V(s));
  std::mt19937 rng(42);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::sort(shuffled.begin(), shuffled.end());
  for (size_t i = 0; i < ordered.size(); ++i) {
    EXPECT_EQ(shuffled[i].original(), ordered[i]) << i;
  }
  EXPECT_LT(V("1.0.0-2"), V("1.0.0-10"));  // numeric identifiers compare as numbers
  EXPECT_LT(V("1.0.0-99"), V("1.0.0-a"));  // and sort before alphanumeric ones
}

TEST(VersionTest, SortKeyOrdersBytewiseAsSemVer2) {
  // The database sorts packages by SortKey (packages.version_order): its byte order must be the
  // versions' precedence for every pair, and equal versions must have equal keys.
  const std::vector<std::string> ordered = {"0.9.9",        "1.0.0-2",       "1.0.0-10",
                                            "1.0.0-99",     "1.0.0-a",       "1.0.0-a-b",
                                            "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                            "1.0.0-beta",   "1.0.0-beta.2",  "1.0.0-beta.11",
                                            "1.0.0-rc.1",   "1.0.0",         "1.0.0.1",
                                            "1.0.1",        "1.2.0",         "1.10.0",
                                            "2.0.0-0",      "2.0.0",         "10.0.0",
                                            "999999999.0.0"};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      EXPECT_EQ(V(ordered[i]).SortKey() < V(ordered[j]).SortKey(), i < j)
          << ordered[i] << " vs " << ordered[j];
    }
  }
  EXPECT_EQ(V("1.0").SortKey(), V("1.0.0.0").SortKey());
  EXPECT_EQ(V("1.0.0-BETA.01").SortKey(), V("1.0.0-beta.1").SortKey());
  EXPECT_EQ(V("1.0.0+a").SortKey(), V("1.0.0").SortKey());
}

TEST(VersionTest, BadVersionsAreRefusedWithAReason) {
  for (const char* bad : {"", "1", "1.2.3.4.5", "a.b", "1.x", "1..2", "1.0-", "1.0+", "1.0-be$ta",
                          "1.0-a..b", "1234567890.0", "-1.0", "1.0 ", " 1.0", "v1.0"}) {
    auto v = Version::Parse(bad);
    ASSERT_FALSE(v) << "'" << bad << "' parsed";
    EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(v.error().message().find("is not a valid version"), std::string::npos);
  }
}

}  // namespace
}  // namespace cuttle::feed
