#include "engine/text_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "engine/package_fixtures.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

using testing::ReadFile;
using testing::WriteFile;

TEST(TextFileTest, ByteOrderMarksAreDetectedAndWrittenBack) {
  cuttle::testing::TempDir dir;
  const std::string bom8 = dir.Sub("bom8.txt");
  WriteFile(bom8, "\xEF\xBB\xBFh\xC3\xA9");
  auto f = ReadTextFile(bom8);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->encoding, TextEncoding::kUtf8Bom);
  EXPECT_EQ(f->text, "h\xC3\xA9");
  ASSERT_TRUE(WriteTextFile(bom8, "x\xC3\xA9", f->encoding));
  EXPECT_EQ(ReadFile(bom8), "\xEF\xBB\xBFx\xC3\xA9");

  // "hé" and U+1F600 (a surrogate pair) in UTF-16 LE and BE.
  const std::string le = dir.Sub("le.txt");
  WriteFile(le, std::string("\xFF\xFEh\0\xE9\0\x3D\xD8\x00\xDE", 10));
  auto l = ReadTextFile(le);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->encoding, TextEncoding::kUtf16Le);
  EXPECT_EQ(l->text, "h\xC3\xA9\xF0\x9F\x98\x80");
  ASSERT_TRUE(WriteTextFile(le, l->text, TextEncoding::kUtf16Be));
  EXPECT_EQ(ReadFile(le), std::string("\xFE\xFF\0h\0\xE9\xD8\x3D\xDE\x00", 10));
  auto b = ReadTextFile(le);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->encoding, TextEncoding::kUtf16Be);
  EXPECT_EQ(b->text, l->text);
}

TEST(TextFileTest, FilesWithoutAMarkPassThroughByteForByte) {
  cuttle::testing::TempDir dir;
  const std::string latin1 = dir.Sub("latin1.txt");
  WriteFile(latin1, "caf\xE9 #{X}");  // not UTF-8
  auto f = ReadTextFile(latin1);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->encoding, TextEncoding::kUtf8);
  EXPECT_EQ(f->text, "caf\xE9 #{X}");
  ASSERT_TRUE(WriteTextFile(latin1, "caf\xE9 1", f->encoding));
  EXPECT_EQ(ReadFile(latin1), "caf\xE9 1");
  ASSERT_TRUE(WriteTextFile(latin1, "caf\xC3\xA9", TextEncoding::kAscii));
  EXPECT_EQ(ReadFile(latin1), "caf?");
}

TEST(TextFileTest, RewritingKeepsThePermissionBits) {
  cuttle::testing::TempDir dir;
  const std::string script = dir.Sub("run.sh");
  WriteFile(script, "echo #{X}");
  ASSERT_EQ(::chmod(script.c_str(), 0750), 0);
  ASSERT_TRUE(WriteTextFile(script, "echo 1", TextEncoding::kUtf8));
  struct stat st {};
  ASSERT_EQ(::stat(script.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_FALSE(ReadTextFile(dir.Sub("missing")).has_value());
}

TEST(TextFileTest, EncodingNamesAndLineEndings) {
  EXPECT_EQ(TextEncodingByName("UTF-8"), TextEncoding::kUtf8Bom);
  EXPECT_EQ(TextEncodingByName("unicode"), TextEncoding::kUtf16Le);
  EXPECT_EQ(TextEncodingByName("utf-16BE"), TextEncoding::kUtf16Be);
  EXPECT_EQ(TextEncodingByName("us-ascii"), TextEncoding::kAscii);
  EXPECT_EQ(TextEncodingByName("windows-1252"), std::nullopt);
  EXPECT_EQ(DominantLineEnding("a\r\nb\r\nc\n"), LineEnding::kCrLf);
  EXPECT_EQ(DominantLineEnding("a\r\nb\nc\n"), LineEnding::kLf);
  EXPECT_EQ(DominantLineEnding("abc"), LineEnding::kLf);
}

}  // namespace
}  // namespace cuttle::engine
