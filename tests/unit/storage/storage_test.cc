#include "storage/storage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"

namespace cuttle::storage {
namespace {

TEST(StorageTest, PrepareCreatesMissingRootsAndLeavesNoProbeBehind) {
  testing::TempDir dir;
  Roots roots{dir.Sub("a/packages"), dir.Sub("b/artifacts"), dir.Sub("tasklogs")};
  ASSERT_TRUE(Prepare(roots));
  for (const auto& root : {roots.packages, roots.artifacts, roots.tasklogs}) {
    EXPECT_TRUE(std::filesystem::is_directory(root));
    EXPECT_TRUE(std::filesystem::is_empty(root)) << root;
  }
}

TEST(StorageTest, UnusableRootNamesSettingPathAndOsError) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("file")) << "x";
  Roots roots{dir.Sub("packages"), dir.Sub("artifacts"), dir.Sub("file/tasklogs")};
  auto r = Prepare(roots);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("storage.tasklogs_dir"), std::string::npos);
  EXPECT_NE(r.error().message().find(dir.Sub("file/tasklogs")), std::string::npos);
  EXPECT_NE(r.error().message().find("Not a directory"), std::string::npos) << r.error().message();
}

TEST(StorageTest, AtomicWriteReplacesWholeFilesOnly) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path().string(), "a.txt", "first"));
  ASSERT_TRUE(WriteFileAtomic(dir.path().string(), "a.txt", "second"));
  std::ifstream in(dir.Sub("a.txt"));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "second");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(StorageTest, RefusesNamesThatLeaveTheDirectory) {
  testing::TempDir dir;
  for (const std::string& bad :
       std::vector<std::string>{"../x", "a/b", "..", ".", "", "a\nb", "a\\b"}) {
    EXPECT_FALSE(IsPlainFileName(bad)) << bad;
    EXPECT_FALSE(WriteFileAtomic(dir.path().string(), bad, "x")) << bad;
  }
  EXPECT_TRUE(IsPlainFileName("report-1.txt"));
}

TEST(StorageTest, AtomicFileLeavesNothingBehindUnlessCommitted) {
  testing::TempDir dir;
  {
    auto file = AtomicFile::Create(dir.Sub("gone.bin"));
    ASSERT_TRUE(file);
    ASSERT_TRUE(file->Write("partial"));
    EXPECT_TRUE(std::filesystem::exists(file->temp_path()));
  }  // destroyed without Commit
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(StorageTest, AtomicFileWithoutReplaceRefusesAnExistingFileAndKeepsIt) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path().string(), "key", "original"));
  auto file = AtomicFile::Create(dir.Sub("key"), {.mode = 0600, .replace = false});
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->Write("other"));
  auto r = file->Commit();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  std::ifstream in(dir.Sub("key"));
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "original");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);

  auto fresh = AtomicFile::Create(dir.Sub("new"), {.mode = 0600, .replace = false});
  ASSERT_TRUE(fresh && fresh->Write("x") && fresh->Commit());
  EXPECT_EQ(std::filesystem::status(dir.Sub("new")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 2);
}

TEST(StorageTest, AtomicFileCanBeNamedOnceItsContentIsKnown) {
  testing::TempDir dir;
  auto file = AtomicFile::Create(dir.Sub(".pending"), {.hint = "upload"});
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->Write("content"));
  EXPECT_FALSE(file->SetFinalPath(dir.Sub("sub/elsewhere")));  // the rename must stay atomic
  ASSERT_TRUE(file->SetFinalPath(dir.Sub("App.1.0.0.zip")));
  ASSERT_TRUE(file->Commit());
  std::ifstream in(dir.Sub("App.1.0.0.zip"));
  std::string text;
  in >> text;
  EXPECT_EQ(text, "content");
  EXPECT_FALSE(std::filesystem::exists(dir.Sub(".pending")));
  size_t files = 0;
  for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace cuttle::storage
