#include "crypto/crypto.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace cuttle::crypto {
namespace {

TEST(CryptoTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(MasterKeyTest, GeneratedKeysParseBackAndDiffer) {
  auto a = MasterKey::Generate();
  auto b = MasterKey::Generate();
  EXPECT_NE(a.ToBase64(), b.ToBase64());
  auto parsed = MasterKey::Parse(fmt::format(" {}\n", a.ToBase64()));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->CheckValue(), a.CheckValue());
  EXPECT_NE(a.CheckValue(), b.CheckValue());
}

TEST(MasterKeyTest, RejectsWrongLengthAndGarbage) {
  EXPECT_FALSE(MasterKey::Parse("").has_value());
  EXPECT_FALSE(MasterKey::Parse("not base64 at all!").has_value());
  EXPECT_FALSE(MasterKey::Parse("AAAAAAAAAAAAAAAAAAAAAA==").has_value());  // 16 bytes
}

TEST(MasterKeyTest, FileIsPrivateAndNeverOverwritten) {
  testing::TempDir dir;
  auto path = dir.Sub("keys/master.key");
  auto key = MasterKey::Generate();
  ASSERT_TRUE(WriteMasterKeyFile(path, key));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto read = [&] {
    std::ifstream in(path);
    return MasterKey::Parse(std::string(std::istreambuf_iterator<char>(in), {}));
  };
  ASSERT_TRUE(read());
  EXPECT_EQ(read()->ToBase64(), key.ToBase64());
  EXPECT_FALSE(WriteMasterKeyFile(path, MasterKey::Generate()));
  EXPECT_EQ(read()->ToBase64(), key.ToBase64());
}

}  // namespace
}  // namespace cuttle::crypto
