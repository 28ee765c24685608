#include "crypto/secret_box.h"

#include <gtest/gtest.h>

#include "core/strings.h"

namespace cuttle::crypto {
namespace {

TEST(SecretBoxTest, RoundTripsAndHidesThePlainText) {
  SecretBox box(MasterKey::Generate());
  const std::string plain = "hunter2-very-secret-ünïcødé";
  std::string sealed = box.Seal(plain);
  EXPECT_TRUE(sealed.starts_with("cv1:"));
  EXPECT_EQ(sealed.find("hunter2"), std::string::npos);
  auto opened = box.Open(sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plain);
  auto empty = box.Open(box.Seal(""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST(SecretBoxTest, EverySealUsesAFreshNonce) {
  SecretBox box(MasterKey::Generate());
  EXPECT_NE(box.Seal("same"), box.Seal("same"));
}

TEST(SecretBoxTest, DetectsTampering) {
  SecretBox box(MasterKey::Generate());
  std::string sealed = box.Seal("the value");
  auto raw = core::Base64Decode(sealed.substr(4));
  ASSERT_TRUE(raw);
  // Flip one bit in each region in turn: nonce, ciphertext, tag.
  for (size_t at : {size_t{0}, size_t{13}, raw->size() - 1}) {
    std::string bad = *raw;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    EXPECT_FALSE(box.Open("cv1:" + core::Base64Encode(bad))) << "byte " << at;
  }
  EXPECT_FALSE(box.Open("cv1:" + core::Base64Encode(raw->substr(0, 20))));  // truncated
  EXPECT_FALSE(box.Open("cv2:" + sealed.substr(4)));                        // unknown scheme
  EXPECT_FALSE(box.Open("not sealed at all"));
}

TEST(SecretBoxTest, AnotherKeyCannotOpen) {
  SecretBox a(MasterKey::Generate());
  SecretBox b(MasterKey::Generate());
  auto opened = b.Open(a.Seal("the value"));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message().find("the value"), std::string::npos);
}

TEST(SecretBoxTest, TheSameMasterKeyOpensOnAnotherNode) {
  auto key = MasterKey::Generate();
  auto copy = MasterKey::Parse(key.ToBase64());
  ASSERT_TRUE(copy);
  EXPECT_EQ(SecretBox(*copy).Open(SecretBox(key).Seal("shared")).value(), "shared");
}

}  // namespace
}  // namespace cuttle::crypto
