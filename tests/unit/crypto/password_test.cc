// Argon2id password hashes: verify only the right password, carry their own cost, never hold the
// password, and differ per hash (a random salt).
#include "crypto/password.h"

#include <gtest/gtest.h>

namespace cuttle::crypto {
namespace {

TEST(PasswordTest, AHashVerifiesOnlyItsPassword) {
  auto hash = HashPassword("open sesame", PasswordCost::Minimum());
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_EQ(hash->find("open sesame"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(*hash, "open sesame"));
  EXPECT_FALSE(VerifyPassword(*hash, "open sesame "));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  EXPECT_NE(*HashPassword("open sesame", PasswordCost::Minimum()), *hash);
}

TEST(PasswordTest, MalformedHashesVerifyNothing) {
  for (const std::string& bad : {std::string(), std::string("$argon2id$"),
                                 std::string("plain text"), std::string(1000, 'x')}) {
    EXPECT_FALSE(VerifyPassword(bad, "plain text")) << bad;
  }
}

TEST(PasswordTest, RandomPasswordsAreLettersAndDigits) {
  std::string a = RandomPassword(), b = RandomPassword();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << a;
}

}  // namespace
}  // namespace cuttle::crypto
