// Regression (issue 9): a zip cut off halfway, or whose entries use "../" paths, was accepted as a
// package, and only the first tar header was read; the deployment engine extracts these onto
// targets.
#include "feed/archive_check.h"

#include <gtest/gtest.h>

#include "core/strings.h"
#include "feed/archive_fixtures.h"
#include "testing/temp_dir.h"

namespace cuttle::feed {
namespace {

using testing::Kind;

class ArchiveCheckTest : public ::testing::Test {
 protected:
  Result<void> Check(const std::string& bytes, std::string_view ext) {
    testing::WriteFile(path_, bytes);
    return CheckArchive(path_, ext);
  }
  // Refused with a 400 whose message contains `says`.
  void ExpectRefused(const std::string& bytes, std::string_view ext, std::string_view says) {
    auto r = Check(bytes, ext);
    ASSERT_FALSE(r) << ext << " accepted; expected: " << says;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(says), std::string::npos) << r.error().message();
  }

  cuttle::testing::TempDir dir_;
  const std::string path_ = dir_.Sub("upload");
};

TEST_F(ArchiveCheckTest, ZipCutOffAnywhereIsRefused) {
  const std::string zip = testing::MakeArchive(
      Kind::kZip, {{"a.txt", std::string(5000, 'a')}, {"b/c.txt", std::string(5000, 'b')}});
  ASSERT_TRUE(Check(zip, ".zip"));
  for (size_t cut : {zip.size() / 2, zip.size() - 23, zip.size() - 1, size_t{100}}) {
    ExpectRefused(zip.substr(0, cut), ".zip", "end-of-central-directory");
  }
  // The end record survives but the central directory it points at lies beyond the file.
  std::string shifted = zip.substr(0, 64) + zip.substr(zip.size() - 22);
  ExpectRefused(shifted, ".zip", "central directory");
  // A .nupkg is a zip and is checked the same way.
  ExpectRefused(zip.substr(0, zip.size() / 2), ".nupkg", "not a readable .nupkg archive");
}

TEST_F(ArchiveCheckTest, ZipEntriesOutsideTheFolderAreRefusedNamingTheEntry) {
  for (const std::string& name :
       {std::string("../x"), std::string("/abs"), std::string("a/../../b"), std::string("..\\x"),
        std::string("a\\..\\..\\b"), std::string("C:\\Windows\\x"), std::string("a/.. /b"),
        std::string("ok\0/../../x", 11)}) {
    const std::string zip = testing::RawZip({{"fine.txt", "ok"}, {name, "evil"}});
    auto r = Check(zip, ".zip");
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("entry '"), std::string::npos) << r.error().message();
  }
  ExpectRefused(testing::RawZip({{"../x", "evil"}}), ".zip", "entry '../x' has a '..' segment");
  ExpectRefused(testing::RawZip({{"/abs", "evil"}}), ".zip", "entry '/abs' is an absolute path");
  ExpectRefused(testing::RawZip({{std::string("ok\0../x", 7), "e"}}), ".zip",
                "entry 'ok\\0../x' contains a NUL byte");
  // A streaming reader goes by the local header, whatever the central directory says.
  ExpectRefused(testing::RawZip({{"safe.txt", "evil"}}, {"../../x.txt"}), ".zip", "'../../x.txt'");
  // libarchive's writer stores what it is given, too.
  ExpectRefused(testing::MakeArchive(Kind::kZip, {{"a/../../b", "x"}}), ".zip", "'a/../../b'");
}

TEST_F(ArchiveCheckTest, SafeNamesAreAccepted) {
  for (const char* name : {"a.txt", "a/b/c.txt", "file..txt", "a/..b/c", ".hidden", "a/./b",
                           "[Content_Types].xml", "lib/net45/Hello World.dll"}) {
    EXPECT_EQ(core::UnsafeArchivePath(name), std::nullopt) << name;
    auto r = Check(testing::RawZip({{name, "x"}}), ".zip");
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().message());
  }
}

TEST_F(ArchiveCheckTest, TarEntriesOutsideTheFolderAreRefused) {
  for (Kind kind : {Kind::kTar, Kind::kTarGz, Kind::kTarBz2}) {
    const char* ext = kind == Kind::kTar ? ".tar" : kind == Kind::kTarGz ? ".tar.gz" : ".tar.bz2";
    for (const char* name : {"../x", "/abs", "a/../../b", "..\\x"}) {
      ExpectRefused(testing::MakeArchive(kind, {{"ok.txt", "ok"}, {name, "evil"}}), ext,
                    std::string("entry '") + name + "'");
    }
    // A header past the first is read too: the bad entry comes after a large good one.
    ExpectRefused(testing::MakeArchive(kind, {{"big.bin", std::string(600000, 'x')}, {"/x", ""}}),
                  ext, "entry '/x'");
  }
  // A NUL inside the name field: some readers stop there, others read on.
  const std::string tar = testing::RawTar({{std::string("ok\0../../x", 10), "evil"}});
  ExpectRefused(tar, ".tar", "NUL byte");
  ExpectRefused(testing::Gzip(tar), ".tar.gz", "NUL byte");
  ExpectRefused(testing::Gzip(tar), ".tgz", "NUL byte");
  EXPECT_TRUE(Check(testing::Gzip(testing::RawTar({{"fine.txt", "ok"}})), ".tar.gz"));
}

TEST_F(ArchiveCheckTest, TarCutOffHalfwayIsRefused) {
  const std::string tar = testing::MakeArchive(
      Kind::kTar, {{"a.txt", std::string(5000, 'a')}, {"b.txt", std::string(5000, 'b')}});
  ASSERT_TRUE(Check(tar, ".tar"));
  ExpectRefused(tar.substr(0, 512 * 12 + 100), ".tar", "cut off");
  const std::string tgz = testing::MakeArchive(
      Kind::kTarGz, {{"a.bin", std::string(200000, 'a')}, {"b.txt", std::string(5000, 'b')}});
  ASSERT_TRUE(Check(tgz, ".tar.gz"));
  ExpectRefused(tgz.substr(0, tgz.size() / 2), ".tar.gz", "not a readable .tar.gz archive");
  // Cut off after the end-of-archive blocks were inflated: only the gzip trailer is missing.
  const std::string small = testing::MakeArchive(Kind::kTarGz, {{"a", std::string(100000, 'y')}});
  ExpectRefused(small.substr(0, small.size() - 4), ".tar.gz", "not a readable .tar.gz archive");
  ExpectRefused("", ".tar", "empty");
}

TEST_F(ArchiveCheckTest, SymbolicLinksOutOfTheFolderAreRefused) {
  for (Kind kind : {Kind::kTar, Kind::kTarGz, Kind::kZip}) {
    const char* ext = kind == Kind::kTar ? ".tar" : kind == Kind::kTarGz ? ".tar.gz" : ".zip";
    ExpectRefused(testing::TarWithSymlink(kind, "link", "/etc", "ok.txt"), ext,
                  "symbolic link to '/etc'");
    ExpectRefused(testing::TarWithSymlink(kind, "a/link", "../../etc", "ok.txt"), ext,
                  "symbolic link to '../../etc'");
    ExpectRefused(testing::TarWithSymlink(kind, "link", ".", "link/x.txt"), ext,
                  "goes through a symbolic link");
    auto fine = Check(testing::TarWithSymlink(kind, "lib/libx.so", "libx.so.1", "ok.txt"), ext);
    EXPECT_TRUE(fine) << ext << ": " << (fine ? "" : fine.error().message());
    fine = Check(testing::TarWithSymlink(kind, "a/b/link", "../c", "ok.txt"), ext);
    EXPECT_TRUE(fine) << ext << ": " << (fine ? "" : fine.error().message());
  }
}

TEST_F(ArchiveCheckTest, UnsafeEntryPathSaysWhy) {
  EXPECT_EQ(core::UnsafeArchivePath(""), "has an empty name");
  EXPECT_EQ(core::UnsafeArchivePath("/etc/passwd"), "is an absolute path");
  EXPECT_EQ(core::UnsafeArchivePath("\\\\server\\share"), "is an absolute path");
  EXPECT_EQ(core::UnsafeArchivePath("c:x"), "is an absolute path (it names a drive)");
  EXPECT_EQ(core::UnsafeArchivePath("a/b/.."), "has a '..' segment");
  EXPECT_EQ(core::UnsafeArchivePath("a\\...\\b"), "has a '..' segment");
  EXPECT_EQ(core::UnsafeArchivePath(std::string_view("a\0b", 3)), "contains a NUL byte");
}

}  // namespace
}  // namespace cuttle::feed
