#include "engine/package_extract.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/strings.h"
#include "engine/package_fixtures.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;
using testing::Directory;
using testing::Entry;
using testing::File;
using testing::Hardlink;
using testing::Kind;
using testing::ReadFile;
using testing::Symlink;
using testing::WriteArchive;

struct Case {
  Kind kind;
  const char* name;
  PackageFormat format;
};

class ExtractEachKindTest : public ::testing::TestWithParam<Case> {
 protected:
  std::string Write(const std::vector<Entry>& entries) {
    return WriteArchive(dir_.Sub(GetParam().name), GetParam().kind, entries);
  }
  std::string Target() {
    fs::create_directories(dir_.path() / "out");
    return dir_.Sub("out");
  }
  cuttle::testing::TempDir dir_;
};

TEST_P(ExtractEachKindTest, WritesFilesFoldersAndModesAndCountsFiles) {
  const std::string package =
      Write({Directory("bin/"), File("bin/run.sh", "#!/bin/sh\necho hi\n", 0755),
             File("web.config", "<x/>"), File("deep/a/b/c.txt", "c")});
  auto files = ExtractPackage(package, GetParam().format, Target());
  ASSERT_TRUE(files) << files.error().message();
  EXPECT_EQ(*files, 3);
  EXPECT_EQ(ReadFile(dir_.Sub("out/web.config")), "<x/>");
  EXPECT_EQ(ReadFile(dir_.Sub("out/deep/a/b/c.txt")), "c");
  struct stat st {};
  ASSERT_EQ(::stat(dir_.Sub("out/bin/run.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  EXPECT_EQ(st.st_mtime, 1'700'000'000);
}

TEST_P(ExtractEachKindTest, RefusesTraversalAndAbsoluteNamesBeforeWritingAnything) {
  for (const char* bad :
       {"../evil.txt", "a/../../evil.txt", "/etc/evil", "C:evil", "a\\..\\..\\x", "a/.. /x"}) {
    const std::string package = Write({File("ok.txt", "fine"), File(bad, "bad")});
    const std::string out = Target();
    auto files = ExtractPackage(package, GetParam().format, out);
    ASSERT_FALSE(files) << bad;
    EXPECT_EQ(files.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(files.error().message().find("refused"), std::string::npos) << bad;
    EXPECT_TRUE(fs::is_empty(out)) << bad;
    EXPECT_FALSE(fs::exists(dir_.path() / "evil.txt"));
  }
}

TEST_P(ExtractEachKindTest, LinksMustStayInsideThePackage) {
  const std::string inside =
      Write({File("real/a.txt", "a"), Symlink("link", "real/a.txt"), Symlink("sub/up", "../real")});
  auto files = ExtractPackage(inside, GetParam().format, Target());
  ASSERT_TRUE(files) << files.error().message();
  EXPECT_EQ(*files, 3);
  EXPECT_EQ(fs::read_symlink(dir_.path() / "out" / "link"), "real/a.txt");
  EXPECT_EQ(ReadFile(dir_.Sub("out/sub/up/a.txt")), "a");

  const std::vector<std::vector<Entry>> escaping = {
      {Symlink("link", "/etc")},
      {Symlink("link", "../outside")},
      {Symlink("a/link", "../../x")},
      // Through a link stored later or earlier: each looks harmless alone.
      {File("link/passwd", "x"), Symlink("link", "real")},
      {Symlink("link", "real"), File("link/passwd", "x")},
      {Symlink("a/b/l2", "../l/.."), Symlink("a/l", "..")},
  };
  for (const auto& entries : escaping) {
    fs::remove_all(dir_.path() / "out");
    auto refused = ExtractPackage(Write(entries), GetParam().format, Target());
    ASSERT_FALSE(refused) << entries.front().path;
    EXPECT_NE(refused.error().message().find("refused"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(dir_.path() / "out"));
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, ExtractEachKindTest,
                         ::testing::Values(Case{Kind::kZip, "p.zip", PackageFormat::kZip},
                                           Case{Kind::kTar, "p.tar", PackageFormat::kTar},
                                           Case{Kind::kTarGz, "p.tar.gz", PackageFormat::kTarGz},
                                           Case{Kind::kTarBz2, "p.tar.bz2",
                                                PackageFormat::kTarBz2}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

TEST(PackageExtractTest, HardLinksAreWrittenAndMayNotEscape) {
  cuttle::testing::TempDir dir;
  fs::create_directories(dir.path() / "out");
  const std::string ok = WriteArchive(dir.Sub("ok.tar"), Kind::kTar,
                                      {File("a.txt", "same"), Hardlink("b.txt", "a.txt")});
  auto files = ExtractPackage(ok, PackageFormat::kTar, dir.Sub("out"));
  ASSERT_TRUE(files) << files.error().message();
  EXPECT_EQ(*files, 2);
  EXPECT_EQ(ReadFile(dir.Sub("out/b.txt")), "same");

  const std::string bad =
      WriteArchive(dir.Sub("bad.tar"), Kind::kTar, {Hardlink("b.txt", "../../etc/passwd")});
  EXPECT_FALSE(ExtractPackage(bad, PackageFormat::kTar, dir.Sub("out")));
}

TEST(PackageExtractTest, NupkgLeavesNuGetsOwnPartsOutAndDecodesNames) {
  cuttle::testing::TempDir dir;
  fs::create_directories(dir.path() / "out");
  const std::string package = WriteArchive(
      dir.Sub("App.1.0.0.nupkg"), Kind::kZip,
      {File("[Content_Types].xml", "<Types/>"), File("_rels/.rels", "r"),
       File("package/services/metadata/core-properties/x.psmdcp", "m"), File("App.nuspec", "n"),
       File("content/my%20file.txt", "spaced"), File("Deploy.sh", "echo")});
  auto files = ExtractPackage(package, PackageFormat::kNupkg, dir.Sub("out"));
  ASSERT_TRUE(files) << files.error().message();
  EXPECT_EQ(*files, 2);
  EXPECT_EQ(ReadFile(dir.Sub("out/content/my file.txt")), "spaced");
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "App.nuspec"));
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "_rels"));
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "[Content_Types].xml"));

  // A percent-encoded traversal is still a traversal.
  const std::string sneaky =
      WriteArchive(dir.Sub("s.nupkg"), Kind::kZip, {File("%2E%2E/evil.txt", "x")});
  EXPECT_FALSE(ExtractPackage(sneaky, PackageFormat::kNupkg, dir.Sub("out")));
}

TEST(PackageExtractTest, FormatsComeFromTheFileName) {
  EXPECT_EQ(PackageFormatOf("App.1.0.0.NUPKG"), PackageFormat::kNupkg);
  EXPECT_EQ(PackageFormatOf("app.zip"), PackageFormat::kZip);
  EXPECT_EQ(PackageFormatOf("app.1.0.tar.gz"), PackageFormat::kTarGz);
  EXPECT_EQ(PackageFormatOf("app.tgz"), PackageFormat::kTarGz);
  EXPECT_EQ(PackageFormatOf("app.tar.bz2"), PackageFormat::kTarBz2);
  EXPECT_EQ(PackageFormatOf("app.tar"), PackageFormat::kTar);
  EXPECT_EQ(PackageFormatOf("app.jar"), std::nullopt);
  EXPECT_EQ(core::UnsafeArchivePath("a/b.txt"), std::nullopt);
  EXPECT_TRUE(core::UnsafeArchivePath(""));
  EXPECT_TRUE(core::UnsafeArchivePath("..."));
}

TEST(PackageExtractTest, ADamagedArchiveIsAnError) {
  cuttle::testing::TempDir dir;
  fs::create_directories(dir.path() / "out");
  std::string bytes = testing::MakeArchive(Kind::kTarGz, {File("a.txt", std::string(5000, 'a'))});
  testing::WriteFile(dir.Sub("cut.tar.gz"), bytes.substr(0, bytes.size() / 2));
  auto files = ExtractPackage(dir.Sub("cut.tar.gz"), PackageFormat::kTarGz, dir.Sub("out"));
  ASSERT_FALSE(files);
  testing::WriteFile(dir.Sub("junk.zip"), "not a zip at all");
  EXPECT_FALSE(ExtractPackage(dir.Sub("junk.zip"), PackageFormat::kZip, dir.Sub("out")));
}

TEST(PackageExtractTest, NonAsciiNamesSurviveEveryFormat) {
  for (auto [kind, name, format] : {std::tuple{Kind::kZip, "u.zip", PackageFormat::kZip},
                                    std::tuple{Kind::kTarGz, "u.tar.gz", PackageFormat::kTarGz}}) {
    cuttle::testing::TempDir dir;
    fs::create_directories(dir.path() / "out");
    const std::string package =
        WriteArchive(dir.Sub(name), kind, {File("caf\xC3\xA9/\xE2\x98\x83.txt", "snow")});
    auto files = ExtractPackage(package, format, dir.Sub("out"));
    ASSERT_TRUE(files) << name << ": " << files.error().message();
    EXPECT_EQ(ReadFile(dir.Sub("out/caf\xC3\xA9/\xE2\x98\x83.txt")), "snow") << name;
  }
}

// A zip whose names carry the UTF-8 flag (what Python's zipfile, 7-Zip and .NET write): in the
// "C" locale libarchive has no locale form of such a name, only the UTF-8 one.
TEST(PackageExtractTest, FlaggedUtf8ZipNamesExtractInTheCLocale) {
  cuttle::testing::TempDir dir;
  fs::create_directories(dir.path() / "out");
  const std::string name = "caf\xC3\xA9.txt";
  std::string zip;
  auto put16 = [](std::string& s, uint32_t v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>((v >> 8) & 0xff);
  };
  auto put32 = [&put16](std::string& s, uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
  };
  const std::string content = "snow";
  const uint32_t crc = 0x3683a5b3;  // crc32("snow")
  std::string local;
  put32(local, 0x04034b50);
  put16(local, 10);
  put16(local, 0x0800);  // names are UTF-8
  put16(local, 0);
  put32(local, 0);
  put32(local, crc);
  put32(local, 4);
  put32(local, 4);
  put16(local, static_cast<uint32_t>(name.size()));
  put16(local, 0);
  zip = local + name + content;
  std::string central;
  put32(central, 0x02014b50);
  put16(central, 20);
  put16(central, 10);
  put16(central, 0x0800);
  put16(central, 0);
  put32(central, 0);
  put32(central, crc);
  put32(central, 4);
  put32(central, 4);
  put16(central, static_cast<uint32_t>(name.size()));
  put16(central, 0);
  put16(central, 0);
  put16(central, 0);
  put16(central, 0);
  put32(central, 0);
  put32(central, 0);
  central += name;
  std::string end;
  put32(end, 0x06054b50);
  put32(end, 0);
  put16(end, 1);
  put16(end, 1);
  put32(end, static_cast<uint32_t>(central.size()));
  put32(end, static_cast<uint32_t>(zip.size()));
  put16(end, 0);
  testing::WriteFile(dir.Sub("flagged.zip"), zip + central + end);
  auto files = ExtractPackage(dir.Sub("flagged.zip"), PackageFormat::kZip, dir.Sub("out"));
  ASSERT_TRUE(files) << files.error().message();
  EXPECT_EQ(ReadFile(dir.Sub("out/caf\xC3\xA9.txt")), "snow");
}

}  // namespace
}  // namespace cuttle::engine
