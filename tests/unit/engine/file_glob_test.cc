#include "engine/file_glob.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/package_fixtures.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

// The tree Calamari's own glob tests use.
class FileGlobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"root.config", "r.txt", "Config/c.config", "Config/Feature1/f1.txt",
                          "Config/Feature1/f1-a.config", "Config/Feature1/f1-b.config",
                          "Config/Feature1/f1-c.config", "Config/Feature2/f2.config"}) {
      WriteFile(dir_.Sub(f), "x");
    }
  }

  std::vector<std::string> Names(std::string_view pattern, GlobMatch what = GlobMatch::kFiles) {
    std::vector<std::string> out;
    for (const auto& p : ExpandGlob(dir_.path().string(), pattern, what)) {
      out.push_back(fs::path(p).lexically_relative(dir_.path()).string());
    }
    return out;
  }

  cuttle::testing::TempDir dir_;
};

TEST_F(FileGlobTest, StarMatchesOneSegmentAndDoubleStarAnyDepthIncludingNone) {
  EXPECT_EQ(Names("*.txt"), (std::vector<std::string>{"r.txt"}));
  EXPECT_EQ(Names("**/*.txt"), (std::vector<std::string>{"Config/Feature1/f1.txt", "r.txt"}));
  EXPECT_EQ(Names("**/*.config").size(), 6u);
  EXPECT_EQ(Names("Config/*.config"), (std::vector<std::string>{"Config/c.config"}));
  EXPECT_EQ(Names("Config/Feature1/*.config").size(), 3u);
}

TEST_F(FileGlobTest, BracesSetsAndQuestionMarks) {
  EXPECT_EQ(
      Names("Config/Feature1/*-{a,b}.config"),
      (std::vector<std::string>{"Config/Feature1/f1-a.config", "Config/Feature1/f1-b.config"}));
  EXPECT_EQ(Names("Config/Feature{1,2}/f{1,2}.{config,txt}"),
            (std::vector<std::string>{"Config/Feature1/f1.txt", "Config/Feature2/f2.config"}));
  EXPECT_EQ(Names("Config/Feature[12]/f[12].{config,txt}").size(), 2u);
  EXPECT_EQ(Names("Config/Feature1/f1-[!a].config").size(), 2u);
  EXPECT_EQ(Names("Config/Feature?/f2.config"),
            (std::vector<std::string>{"Config/Feature2/f2.config"}));
}

TEST_F(FileGlobTest, BracesWithoutACommaAreLiteral) {
  WriteFile(dir_.Sub("{Configuration}/Foo.txt"), "x");
  EXPECT_EQ(Names("{Configuration}/*.txt"), (std::vector<std::string>{"{Configuration}/Foo.txt"}));
  EXPECT_EQ(Names("{Configuration}\\*.txt"), (std::vector<std::string>{"{Configuration}/Foo.txt"}));
}

TEST_F(FileGlobTest, FilesOnlyUnlessDirectoriesAreAskedForAndEachOnce) {
  EXPECT_EQ(Names("Config"), std::vector<std::string>{});
  EXPECT_EQ(Names("Config", GlobMatch::kFilesAndDirectories), (std::vector<std::string>{"Config"}));
  EXPECT_EQ(Names("Config/**").size(), 6u);  // every file under Config, no folders
  EXPECT_EQ(Names("Config/**", GlobMatch::kFilesAndDirectories).size(), 8u);
  EXPECT_EQ(Names("{r.txt,*.txt,**/r.txt}"), (std::vector<std::string>{"r.txt"}));
}

TEST_F(FileGlobTest, MatchingIsCaseSensitiveAndStarsMatchDotFiles) {
  WriteFile(dir_.Sub(".env"), "x");
  EXPECT_EQ(Names("R.TXT"), std::vector<std::string>{});
  EXPECT_EQ(Names("*env"), (std::vector<std::string>{".env"}));
}

TEST_F(FileGlobTest, AbsoluteAndParentRelativePatterns) {
  const std::string absolute = dir_.Sub("Config/c.config");
  EXPECT_EQ(ExpandGlob("/nonexistent", absolute), (std::vector<std::string>{absolute}));
  EXPECT_EQ(ExpandGlob(dir_.Sub("Config"), "../r.txt"),
            (std::vector<std::string>{dir_.Sub("r.txt")}));
}

TEST_F(FileGlobTest, DoubleStarDoesNotFollowLinkedFolders) {
  fs::create_directory_symlink(dir_.path(), dir_.path() / "Config" / "loop");
  EXPECT_EQ(Names("**/f2.config"), (std::vector<std::string>{"Config/Feature2/f2.config"}));
}

TEST(SplitPathListTest, SplitsOnLineBreaksTrimsAndDropsBlanks) {
  EXPECT_EQ(SplitPathList("  a.json \r\n\r\n*.config\n\t\nb/**/c.yml  "),
            (std::vector<std::string>{"a.json", "*.config", "b/**/c.yml"}));
  EXPECT_TRUE(SplitPathList("").empty());
}

}  // namespace
}  // namespace cuttle::engine
