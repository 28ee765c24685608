// Bug (issue 9 #4): createArtifact read anything, without bound: /dev/zero was copied at 1 GB/s
// until the store held 16.8 GB and neither cancel, the script timeout nor SIGTERM stopped it; a
// FIFO blocked the copy forever; /etc/shadow or the master key became downloadable artifacts.
#include "tasks/artifacts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"
#include "testing/test_db.h"

namespace cuttle::tasks {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kMax = 1 << 20;

class ArtifactSourceTest : public ::testing::Test {
 protected:
  ArtifactSourceTest() { fs::create_directories(work_); }
  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  Error Refusal(const std::string& path, std::optional<int64_t> length = std::nullopt,
                int64_t max = kMax) {
    auto s = ArtifactSource::Open(work_, path, length, max);
    EXPECT_FALSE(s) << path << " was accepted";
    return s ? Error::Internal("accepted") : s.error();
  }

  testing::TempDir dir_;
  std::string work_ = dir_.Sub("work");
};

TEST_F(ArtifactSourceTest, AcceptsARegularFileInTheWorkingFolder) {
  Write(work_ + "/report.txt", "report\n");
  auto by_name = ArtifactSource::Open(work_, "report.txt", 7, kMax);
  ASSERT_TRUE(by_name) << by_name.error().message();
  EXPECT_EQ(by_name->size(), 7);
  EXPECT_TRUE(ArtifactSource::Open(work_, work_ + "/report.txt", std::nullopt, kMax));
}

TEST_F(ArtifactSourceTest, RefusesDevicesAndFilesOutsideTheWorkingFolder) {
  EXPECT_NE(Refusal("/dev/zero").message().find("not inside the task's working folder"),
            std::string::npos);
  Write(dir_.Sub("master.key"), "secret");
  EXPECT_NE(Refusal(dir_.Sub("master.key")).message().find("not inside"), std::string::npos);
  EXPECT_NE(Refusal("../master.key").message().find("not inside"), std::string::npos);
  // A symlink the script made to a file outside is judged by where it leads.
  fs::create_symlink(dir_.Sub("master.key"), work_ + "/key.txt");
  fs::create_symlink("/dev/zero", work_ + "/zero");
  EXPECT_NE(Refusal("key.txt").message().find("not inside"), std::string::npos);
  EXPECT_NE(Refusal("zero").message().find("not inside"), std::string::npos);
  // The working folder itself is not a file in it.
  EXPECT_EQ(Refusal(work_).code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(Refusal("missing.txt").message().find("does not exist"), std::string::npos);
  // No refusal names the node's own paths.
  EXPECT_EQ(Refusal("key.txt").message().find(work_), std::string::npos);
}

TEST_F(ArtifactSourceTest, RefusesAFifoAtOnceInsteadOfWaitingForAWriter) {
  ASSERT_EQ(::mkfifo((work_ + "/pipe").c_str(), 0600), 0);
  EXPECT_NE(Refusal("pipe").message().find("not a regular file"), std::string::npos);
}

TEST_F(ArtifactSourceTest, RefusesAFileOverTheLimitOrOfAnotherLengthThanDeclared) {
  Write(work_ + "/big.bin", std::string(11, 'x'));
  auto big = Refusal("big.bin", std::nullopt, 10);
  EXPECT_EQ(big.code(), ErrorCode::kTooLarge);
  EXPECT_NE(big.message().find("tasks.max_artifact_bytes"), std::string::npos);
  EXPECT_TRUE(ArtifactSource::Open(work_, "big.bin", std::nullopt, 11));
  EXPECT_NE(Refusal("big.bin", 5).message().find("declared a length of 5"), std::string::npos);
}

class ArtifactCollectTest : public ArtifactSourceTest {
 protected:
  ArtifactCollectTest() { fs::create_directories(store_); }
  std::vector<std::string> StoreFiles() {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(store_)) {
      if (!e.is_directory()) out.push_back(e.path().filename().string());
    }
    return out;
  }
  std::unique_ptr<db::Database> db_ = testing::NewSqlite(dir_);
  std::string store_ = dir_.Sub("artifacts");
  ArtifactStore artifacts_{*db_, store_};
  Lease lease_{"ServerTasks-1", "unit", 1};
};

TEST_F(ArtifactCollectTest, ACopyStopsWhenAskedAndLeavesNothingBehind) {
  Write(work_ + "/big.bin", std::string(8 << 20, 'x'));  // eight chunks
  auto source = ArtifactSource::Open(work_, "big.bin", std::nullopt, 16 << 20);
  ASSERT_TRUE(source);
  int asked = 0;
  auto r = artifacts_.Collect(lease_, "Spaces-1", *source, "big.bin",
                              [&]() -> std::string { return ++asked >= 3 ? "canceled" : ""; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kConflict);
  EXPECT_NE(r.error().message().find("canceled"), std::string::npos);
  EXPECT_EQ(asked, 3) << "it stopped at the first question answered";
  EXPECT_TRUE(StoreFiles().empty()) << "no temporary file is left";
  EXPECT_TRUE(artifacts_.List(std::nullopt, std::nullopt)->items.empty());
}

TEST_F(ArtifactCollectTest, AFileThatGrowsDuringTheCopyIsRefused) {
  Write(work_ + "/log.txt", "12345");
  auto source = ArtifactSource::Open(work_, "log.txt", 5, kMax);
  ASSERT_TRUE(source);
  std::ofstream(work_ + "/log.txt", std::ios::app) << std::string(1000, 'y');
  auto r = artifacts_.Collect(lease_, "Spaces-1", *source, "log.txt", {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("grew"), std::string::npos);
  EXPECT_TRUE(StoreFiles().empty());
  EXPECT_TRUE(artifacts_.List(std::nullopt, std::nullopt)->items.empty());
}

// Bug (issue 9 #4): a node killed mid-copy left its temporary file in the artifact store for ever.
TEST_F(ArtifactCollectTest, AStartingNodeSweepsItsOwnKilledCopiesOnly) {
  fs::create_directories(store_ + "/servertasks-1");
  fs::create_directories(store_ + "/servertasks-2");
  for (auto name :
       {"servertasks-1/.tmp-artifact@unit@-1-0-abc", "servertasks-2/.tmp-artifact@unit@-2",
        "servertasks-1/.tmp-artifact@unit-2@-1-0-abc", "servertasks-1/report.txt"}) {
    Write(store_ + "/" + name, "x");
  }
  artifacts_.SweepTemporaries("unit");
  std::vector<std::string> left = StoreFiles();
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{".tmp-artifact@unit-2@-1-0-abc", "report.txt"}));
}

TEST_F(ArtifactCollectTest, ACopyInProgressIsNamedForItsNode) {
  Write(work_ + "/a.txt", "abc");
  auto source = ArtifactSource::Open(work_, "a.txt", 3, kMax);
  ASSERT_TRUE(source);
  std::vector<std::string> seen;
  (void)artifacts_.Collect(lease_, "Spaces-1", *source, "a.txt", [&]() -> std::string {
    seen = StoreFiles();
    return "canceled";
  });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].starts_with(".tmp-artifact@unit@")) << seen[0];
}

}  // namespace
}  // namespace cuttle::tasks
