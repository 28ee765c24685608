#include "core/strings.h"

#include <gtest/gtest.h>

namespace cuttle::core {
namespace {

TEST(StringsTest, SplitsCommaListsAndTrims) {
  EXPECT_EQ(Split("ServerTasks-1, ServerTasks-2,,", ','),
            (std::vector<std::string>{"ServerTasks-1", "ServerTasks-2"}));
}

TEST(StringsTest, FormatsOctopusDates) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000+00:00");
  EXPECT_EQ(FormatIso8601(1'800'000'000'123), "2027-01-15T08:00:00.123+00:00");
}

TEST(StringsTest, FormatsDurationsLikeOctopus) {
  EXPECT_EQ(FormatDuration(1000), "1 second");
  EXPECT_EQ(FormatDuration(2500), "2 seconds");
  EXPECT_EQ(FormatDuration(120000), "2 minutes");
}

TEST(StringsTest, Base64RoundTripsAndRejectsGarbage) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "/tmp/file name.txt"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(Base64Decode("a*b").has_value());
}

TEST(StringsTest, UrlDecodeHandlesPercentAndPlus) {
  EXPECT_EQ(UrlDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(UrlDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(UrlDecode("bad%2", true), "bad%2");
}

TEST(StringsTest, ParseIntRejectsTrailingGarbage) {
  EXPECT_EQ(ParseInt("42"), 42);
  EXPECT_FALSE(ParseInt("42x").has_value());
  EXPECT_FALSE(ParseInt("").has_value());
}

}  // namespace
}  // namespace cuttle::core

namespace cuttle::core {
namespace {

TEST(StringsTest, ParsesIso8601WithOffsets) {
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:01.5+00:00"), 1500);
  EXPECT_EQ(ParseIso8601("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(ParseIso8601(FormatIso8601(1'800'000'000'123)), 1'800'000'000'123);
  EXPECT_FALSE(ParseIso8601("tomorrow").has_value());
  EXPECT_FALSE(ParseIso8601("2026-13-01T00:00:00Z").has_value());
}

}  // namespace
}  // namespace cuttle::core
