// Session cookies: sealed under a key derived from the master key, so another SessionSeal from the
// same key opens them, one from another key does not, and an altered cookie is refused; CSRF
// tokens match only their own session.
#include "crypto/session_seal.h"

#include <gtest/gtest.h>

namespace cuttle::crypto {
namespace {

TEST(SessionSealTest, AnyNodeWithTheMasterKeyOpensACookie) {
  MasterKey key = MasterKey::Generate();
  SessionSeal a(key), b(key), stranger(MasterKey::Generate());
  std::string sealed = a.Seal("session payload");
  EXPECT_EQ(sealed.find("session payload"), std::string::npos);
  EXPECT_EQ(sealed.find_first_of("+/=;, "), std::string::npos);  // cookie-safe
  EXPECT_NE(a.Seal("session payload"), sealed);                  // a nonce per seal
  EXPECT_EQ(b.Open(sealed).value_or(""), "session payload");
  EXPECT_FALSE(stranger.Open(sealed));
  std::string altered = sealed;
  altered[sealed.size() / 2] = altered[sealed.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(b.Open(altered));
  EXPECT_FALSE(b.Open(""));
  EXPECT_FALSE(b.Open("not base64 ***"));
}

TEST(SessionSealTest, ACsrfTokenMatchesOnlyItsSession) {
  MasterKey key = MasterKey::Generate();
  SessionSeal a(key), b(key), stranger(MasterKey::Generate());
  std::string token = a.CsrfToken("session-1");
  EXPECT_TRUE(b.CsrfMatches("session-1", token));
  EXPECT_FALSE(b.CsrfMatches("session-2", token));
  EXPECT_FALSE(stranger.CsrfMatches("session-1", token));
  EXPECT_FALSE(b.CsrfMatches("session-1", ""));
  EXPECT_FALSE(b.CsrfMatches("session-1", token + "A"));
}

TEST(SessionSealTest, Base64UrlRoundTrips) {
  for (const std::string& s : {std::string(), std::string("a"), std::string("\xff\xfe\x00", 3),
                               std::string("any carnal pleasure")}) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)).value_or("?"), s);
  }
  EXPECT_FALSE(Base64UrlDecode("ab+c"));
}

}  // namespace
}  // namespace cuttle::crypto
