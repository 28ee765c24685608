#include "model/release_version.h"

#include <gtest/gtest.h>

namespace cuttle::model {
namespace {

std::string Expand(const std::string& t, std::optional<std::string> last,
                   std::optional<std::string> channel_last = std::nullopt, int64_t now = 0) {
  VersionContext c{std::move(last), std::move(channel_last), "Default", now};
  auto v = ExpandVersionTemplate(t, c);
  return v ? *v : "error: " + v.error().message();
}

TEST(ReleaseVersionTest, TheDefaultTemplateCountsPatchesFromZero) {
  EXPECT_EQ(Expand(kDefaultVersionTemplate, std::nullopt), "0.0.1");
  EXPECT_EQ(Expand(kDefaultVersionTemplate, "0.0.1"), "0.0.2");
  EXPECT_EQ(Expand(kDefaultVersionTemplate, "1.4.9"), "1.4.10");
  EXPECT_EQ(Expand(kDefaultVersionTemplate, "2.3.4-beta.1+meta"), "2.3.5");
}

TEST(ReleaseVersionTest, EveryPartHasALastAndANextToken) {
  const std::string last = "1.2.3.4-rc";
  EXPECT_EQ(Expand("#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}."
                   "#{Octopus.Version.LastPatch}.#{Octopus.Version.LastBuild}",
                   last),
            "1.2.3.4");
  EXPECT_EQ(Expand("#{Octopus.Version.NextMajor}.#{Octopus.Version.NextMinor}."
                   "#{Octopus.Version.NextPatch}.#{Octopus.Version.NextRevision}",
                   last),
            "2.3.4.5");
  EXPECT_EQ(Expand("1.0.#{Octopus.Version.NextPatch}#{Octopus.Version.LastSuffix}", last),
            "1.0.4-rc");
  // Token names are case-insensitive, whitespace inside the braces is ignored.
  EXPECT_EQ(Expand("#{ octopus.version.nextmajor }.0", "3.0"), "4.0");
}

TEST(ReleaseVersionTest, ChannelTokensReadTheChannelsLatestRelease) {
  EXPECT_EQ(Expand("#{Octopus.Version.Channel.LastMajor}.#{Octopus.Version.Channel.NextMinor}-"
                   "#{Octopus.Release.Channel.Name}",
                   "9.9.9", "1.1.0"),
            "1.2-Default");
}

TEST(ReleaseVersionTest, DateAndTimeTokensAreUtc) {
  // 2024-03-05T07:08:09Z
  const int64_t now = 1709622489000;
  EXPECT_EQ(Expand("#{Octopus.Date.Year}.#{Octopus.Date.Month}.#{Octopus.Date.Day}."
                   "#{Octopus.Date.DayOfYear}-t#{Octopus.Time.Hour}#{Octopus.Time.Minute}"
                   "#{Octopus.Time.Second}",
                   std::nullopt, std::nullopt, now),
            "2024.03.05.65-t070809");
}

TEST(ReleaseVersionTest, MaskCharactersIncrementOrKeepTheLastParts) {
  EXPECT_EQ(Expand("2.1.c.i", "2.1.7.3"), "2.1.7.4");
  EXPECT_EQ(Expand("1.i", std::nullopt), "1.1");
  EXPECT_EQ(Expand("1.0.0", "5.0.0"), "1.0.0");
}

TEST(ReleaseVersionTest, AnUnknownTokenIsRefusedByName) {
  auto r = ExpandVersionTemplate("#{Project.Thing}.1", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("#{Project.Thing}"), std::string::npos);
  EXPECT_FALSE(ExpandVersionTemplate("1.#{Octopus.Version.LastMajor", {}).has_value());
  EXPECT_FALSE(ExpandVersionTemplate("   ", {}).has_value());
}

TEST(ReleaseVersionTest, AnUnparsableLastVersionCountsAsZero) {
  EXPECT_EQ(Expand(kDefaultVersionTemplate, "banana"), "0.0.1");
}

}  // namespace
}  // namespace cuttle::model
