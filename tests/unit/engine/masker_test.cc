#include "engine/masker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace cuttle::engine {
namespace {

TEST(MaskerTest, WithoutValuesTextIsUnchanged) {
  Masker m;
  EXPECT_EQ(m.Apply("nothing to hide"), "nothing to hide");
  EXPECT_EQ(m.Apply(""), "");
}

TEST(MaskerTest, ReplacesEveryOccurrenceOfEveryValue) {
  Masker m;
  m.Add("hunter2");
  m.Add("s3cr3t");
  EXPECT_EQ(m.Apply("user:hunter2 pass:s3cr3t again:hunter2"),
            "user:******** pass:******** again:********");
  EXPECT_EQ(m.Apply("hunter2"), "********");
  EXPECT_EQ(m.Apply("hunter"), "hunter") << "a prefix of a value is not the value";
  EXPECT_EQ(m.size(), 2u);
}

TEST(MaskerTest, TheLongestValueWinsOverOneItContains) {
  Masker m;
  m.Add("pass");
  m.Add("password123");
  EXPECT_EQ(m.Apply("x password123 y pass z"), "x ******** y ******** z");
  EXPECT_EQ(m.Apply("passpassword123"), "********") << "a run of hidden bytes is one mask";
}

TEST(MaskerTest, OverlappingValuesLeaveNoByteOfEitherBehind) {
  Masker m;
  m.Add("abcd");
  m.Add("cdef");
  EXPECT_EQ(m.Apply("xxabcdefyy"), "xx********yy");
  EXPECT_EQ(m.Apply("abcdcdef"), "********");
  // A value overlapping itself.
  Masker self;
  self.Add("aba");
  EXPECT_EQ(self.Apply("ababa"), "********");
  EXPECT_EQ(self.Apply("aba aba"), "******** ********");
}

TEST(MaskerTest, ValuesFoundThroughFailureLinksAreMasked) {
  // "bc" is found only by falling back from the path of "abd".
  Masker m;
  m.Add("abd");
  m.Add("bc");
  EXPECT_EQ(m.Apply("abc"), "a********");
  EXPECT_EQ(m.Apply("xabdx"), "x********x");
}

TEST(MaskerTest, AValueAddedLaterAppliesFromThenOn) {
  Masker m;
  m.Add("first");
  EXPECT_EQ(m.Apply("first second"), "******** second");
  m.Add("second");
  EXPECT_EQ(m.Apply("first second"), "******** ********");
  m.Add("second");  // a repeat changes nothing
  EXPECT_EQ(m.size(), 2u);
}

TEST(MaskerTest, EmptyAndBlankValuesAreNotMasked) {
  Masker m;
  m.Add("");
  m.Add("   ");
  m.Add("\t\r\n");
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.Apply("a b\tc"), "a b\tc");
}

TEST(MaskerTest, AMultiLineValueIsAlsoMaskedLineByLine) {
  Masker m;
  m.Add("-----BEGIN-----\r\nMIIEbody\r\n-----END-----\r\n");
  EXPECT_EQ(m.Apply("MIIEbody"), "********");
  EXPECT_EQ(m.Apply("-----BEGIN-----"), "********");
  EXPECT_EQ(m.Apply("whole: -----BEGIN-----\r\nMIIEbody\r\n-----END-----\r\n."),
            "whole: ********.");
}

TEST(MaskerTest, BytesOfAnyValueMatchExactly) {
  Masker m;
  m.Add("ünï✓");
  m.Add(std::string("\xff\x00\x01", 3));
  EXPECT_EQ(m.Apply("a ünï✓ b"), "a ******** b");
  EXPECT_EQ(m.Apply(std::string("x\xff\x00\x01y", 5)), "x********y");
  EXPECT_EQ(m.Apply("ünï"), "ünï");
}

TEST(MaskerTest, ManyValuesCostTimeLinearInTheText) {
  Masker m;
  for (int i = 0; i < 2000; ++i) m.Add("secret-value-" + std::to_string(i) + "-end");
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "secret-value-" + std::to_string(i % 4000) + "-end ";
  auto t0 = std::chrono::steady_clock::now();
  std::string out = m.Apply(text);
  auto took = std::chrono::steady_clock::now() - t0;
  size_t masks = 0;
  for (size_t at = out.find(Masker::kMask); at != std::string::npos;
       at = out.find(Masker::kMask, at + 1)) {
    ++masks;
    at += Masker::kMask.size() - 1;
  }
  EXPECT_EQ(masks, 10000u) << "half the words are values";
  EXPECT_EQ(out.find("secret-value-1-end"), std::string::npos);
  EXPECT_NE(out.find("secret-value-2000-end"), std::string::npos);
  // Generous: a quadratic scan takes seconds here.
  EXPECT_LT(took, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace cuttle::engine
