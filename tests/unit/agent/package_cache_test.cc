#include "agent/package_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "agent/journal.h"
#include "crypto/crypto.h"
#include "testing/temp_dir.h"

namespace cuttle::agent {
namespace {

agentwire::PackageInfo Info(const std::string& content) {
  agentwire::PackageInfo p;
  p.space_id = "Spaces-1";
  p.package_id = "web";
  p.version = "1.0.0";
  p.sha256 = crypto::Sha256Hex(content);
  p.size = content.size();
  return p;
}

// A server holding `content`: honours Range unless told not to, and can fail after `fail_after`
// bytes (a dropped connection).
struct FakeFeed {
  std::string content;
  bool honour_range = true;
  size_t fail_after = std::string::npos;
  std::vector<uint64_t> offsets;

  Result<void> operator()(uint64_t offset, DownloadSink& sink) {
    offsets.push_back(offset);
    uint64_t from = honour_range ? offset : 0;
    if (!sink.Start(from)) return Fail(Error(ErrorCode::kIo, "refused"));
    std::string_view rest = std::string_view(content).substr(from);
    if (fail_after != std::string::npos && rest.size() > fail_after) {
      sink.Write(rest.substr(0, fail_after));
      fail_after = std::string::npos;
      return Fail(Error(ErrorCode::kUnavailable, "connection reset"));
    }
    sink.Write(rest);
    return {};
  }
};

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(PackageCacheTest, DownloadsVerifiesAndReusesTheFile) {
  testing::TempDir tmp;
  FakeFeed feed{std::string(100'000, 'x') + "end"};
  auto p = Info(feed.content);
  auto path = FetchPackage(tmp.Sub("packages"), p, std::ref(feed));
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, tmp.Sub("packages") + "/" + p.sha256);
  EXPECT_EQ(*ReadWholeFile(*path), feed.content);
  EXPECT_FALSE(Exists(*path + ".partial"));
  // A second command finds it in the cache: no request.
  auto again = FetchPackage(tmp.Sub("packages"), p, std::ref(feed));
  ASSERT_TRUE(again);
  EXPECT_EQ(feed.offsets.size(), 1u);
}

TEST(PackageCacheTest, ADroppedDownloadResumesFromThePartialFile) {
  testing::TempDir tmp;
  FakeFeed feed{std::string(50'000, 'a') + std::string(50'000, 'b')};
  feed.fail_after = 30'000;
  auto p = Info(feed.content);
  auto first = FetchPackage(tmp.Sub("packages"), p, std::ref(feed));
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Exists(tmp.Sub("packages") + "/" + p.sha256 + ".partial"));
  auto second = FetchPackage(tmp.Sub("packages"), p, std::ref(feed));
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(feed.offsets, (std::vector<uint64_t>{0, 30'000}));
  EXPECT_EQ(*ReadWholeFile(*second), feed.content);
}

TEST(PackageCacheTest, AServerIgnoringTheRangeStartsTheFileOver) {
  testing::TempDir tmp;
  FakeFeed feed{std::string(10'000, 'q')};
  feed.fail_after = 4'000;
  auto p = Info(feed.content);
  ASSERT_FALSE(FetchPackage(tmp.Sub("packages"), p, std::ref(feed)));
  feed.honour_range = false;
  auto second = FetchPackage(tmp.Sub("packages"), p, std::ref(feed));
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(*ReadWholeFile(*second), feed.content);
}

TEST(PackageCacheTest, AMismatchDeletesTheFileAndFailsTheCommand) {
  testing::TempDir tmp;
  FakeFeed feed{"tampered bytes"};
  auto p = Info("the real bytes");
  auto got = FetchPackage(tmp.Sub("packages"), p, std::ref(feed));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message().find("the package web 1.0.0 failed verification"),
            std::string::npos)
      << got.error().message();
  EXPECT_FALSE(Exists(tmp.Sub("packages") + "/" + p.sha256 + ".partial"));
  EXPECT_FALSE(Exists(tmp.Sub("packages") + "/" + p.sha256));
}

TEST(PackageCacheTest, RefusesACommandWithoutAValidDigest) {
  testing::TempDir tmp;
  FakeFeed feed{"x"};
  auto p = Info("x");
  p.sha256 = "../../etc/passwd";
  EXPECT_FALSE(FetchPackage(tmp.Sub("packages"), p, std::ref(feed)));
  EXPECT_TRUE(feed.offsets.empty());
}

}  // namespace
}  // namespace cuttle::agent
