#include "core/strings.h"

#include <gtest/gtest.h>

#include <ctime>

namespace cuttle::core {
namespace {

TEST(StringsTest, SplitsCommaListsAndTrims) {
  EXPECT_EQ(Split("ServerTasks-1, ServerTasks-2,,", ','),
            (std::vector<std::string>{"ServerTasks-1", "ServerTasks-2"}));
}

TEST(StringsTest, FormatsOctopusDates) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000+00:00");
  EXPECT_EQ(FormatIso8601(1'800'000'000'123), "2027-01-15T08:00:00.123+00:00");
  EXPECT_EQ(FormatIso8601(-1), "1969-12-31T23:59:59.999+00:00");
  EXPECT_EQ(FormatIso8601(951'782'400'000), "2000-02-29T00:00:00.000+00:00");
  EXPECT_EQ(FormatIso8601(4'107'542'399'999), "2100-02-28T23:59:59.999+00:00");
  // Every day of 2023-2025 agrees with gmtime.
  for (int64_t day = 19358; day < 20454; ++day) {
    std::time_t secs = static_cast<std::time_t>(day * 86400 + 3723);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char want[40];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.042+00:00", &tm);
    ASSERT_EQ(FormatIso8601(day * 86'400'000 + 3'723'042), want);
  }
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
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  EXPECT_EQ(Base64Decode(Base64Encode(all_bytes)), all_bytes);
  // Longer than one block of OpenSSL's int-sized calls (3 MiB), with a padded end.
  std::string big(3 * 1024 * 1024 * 2 + 1, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i);
  auto encoded = Base64Encode(big);
  EXPECT_EQ(encoded.size(), (big.size() + 2) / 3 * 4);
  EXPECT_EQ(encoded.substr(encoded.size() - 2), "==");
  EXPECT_EQ(Base64Decode(encoded), big);
}

// Base64 and hex had two hand-written copies each; the one codec on OpenSSL's encoders must keep
// what they accepted (whitespace, missing padding) and refuse what EVP_DecodeBlock lets through.
TEST(StringsTest, Base64DecodeEdgeCases) {
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode(" \r\n\t"), "");
  // Padding: complete, missing, or wrong.
  EXPECT_EQ(Base64Decode("QQ=="), "A");
  EXPECT_EQ(Base64Decode("QUI="), "AB");
  EXPECT_EQ(Base64Decode("QQ"), "A");
  EXPECT_EQ(Base64Decode("QUI"), "AB");
  EXPECT_EQ(Base64Decode("QUJD"), "ABC");
  EXPECT_FALSE(Base64Decode("QQ=").has_value());
  EXPECT_FALSE(Base64Decode("Q===").has_value());
  EXPECT_FALSE(Base64Decode("QUJD=").has_value());
  EXPECT_FALSE(Base64Decode("QUJD====").has_value());
  EXPECT_FALSE(Base64Decode("Q").has_value());      // 6 bits encode no byte
  EXPECT_FALSE(Base64Decode("QUJDR").has_value());  // nor do 4 characters and 6 bits
  // OpenSSL decodes '=' in the middle as zero bits and skips trailing dashes; we refuse both.
  EXPECT_FALSE(Base64Decode("QQ==QQ==").has_value());
  EXPECT_FALSE(Base64Decode("QU=D").has_value());
  EXPECT_FALSE(Base64Decode("QUJD----").has_value());
  // Whitespace anywhere, as in MIME line breaks and key files with a trailing newline.
  EXPECT_EQ(Base64Decode(" QU JD\r\nREVG\n"), "ABCDEF");
  EXPECT_EQ(Base64Decode("QQ= =\n"), "A");
  // Characters outside the standard alphabet, including URL-safe base64 and NUL.
  EXPECT_FALSE(Base64Decode("QUJ-").has_value());
  EXPECT_FALSE(Base64Decode("QUJ_").has_value());
  EXPECT_FALSE(Base64Decode(std::string_view("QU\0D", 4)).has_value());
  EXPECT_FALSE(Base64Decode("QUJD\f").has_value());
  EXPECT_FALSE(Base64Decode("\xc3\xa9QUJD").has_value());
}

TEST(StringsTest, HexEncodesLowerCaseAndDecodesEitherCase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string_view("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexDecode("0001abff"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(HexDecode("0001ABFF"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(HexDecode(""), "");
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(HexDecode("ab:cd").has_value());
  EXPECT_FALSE(HexDecode(std::string_view("a\0", 2)).has_value());
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
