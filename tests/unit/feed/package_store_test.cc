#include "feed/package_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "crypto/crypto.h"
#include "feed/archive_fixtures.h"
#include "http/http.h"
#include "testing/test_db.h"

namespace cuttle::feed {
namespace {

using testing::Kind;
namespace fs = std::filesystem;

// Hands `data` out in chunks of `step` bytes, then fails with `error` if one is given.
ChunkSource Chunks(const std::string& data, size_t step = 4096,
                   std::optional<Error> error = std::nullopt) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, step, pos, error]() -> Result<std::string_view> {
    if (*pos >= data.size() && error) return Fail(*error);
    size_t take = std::min(step, data.size() - *pos);
    std::string_view out(data.data() + *pos, take);
    *pos += take;
    return out;
  };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class PackageStoreTest : public ::testing::Test {
 protected:
  PackageStoreTest()
      : db_(cuttle::testing::NewSqlite(dir_)), store_(*db_, dir_.Sub("packages"), 1 << 20) {}

  // Every file under the packages root, temporary ones included.
  std::vector<std::string> Files() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& f : fs::recursive_directory_iterator(dir_.Sub("packages"), ec)) {
      if (f.is_regular_file()) out.push_back(f.path().filename().string());
    }
    return out;
  }

  Result<UploadResult> Put(std::string_view name, const std::string& data,
                           OverwriteMode mode = OverwriteMode::kFailIfExists) {
    return store_.Upload("Spaces-1", name, mode, Chunks(data));
  }

  cuttle::testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  PackageStore store_;
  const std::string zip_ = testing::MakeArchive(Kind::kZip, {{"a.txt", "version one"}});
  const std::string zip2_ = testing::MakeArchive(Kind::kZip, {{"a.txt", "version two"}});
};

TEST_F(PackageStoreTest, UploadStoresFileRowAndHashes) {
  auto r = Put("Hello.App.1.0.zip", zip_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->created);
  const Package& p = r->package;
  EXPECT_EQ(p.package_id, "Hello.App");
  EXPECT_EQ(p.version, "1.0.0");
  EXPECT_EQ(p.resource_id(), "packages-Hello.App.1.0.0");
  EXPECT_EQ(p.title, "Hello.App");
  EXPECT_EQ(p.extension, ".zip");
  EXPECT_EQ(p.size, static_cast<int64_t>(zip_.size()));
  EXPECT_EQ(p.sha1, crypto::Sha1Hex(zip_));
  EXPECT_EQ(p.sha256, crypto::Sha256Hex(zip_));
  EXPECT_GT(p.published, 0);
  EXPECT_EQ(ReadFile(store_.PathOf(p)), zip_);
  EXPECT_EQ(Files().size(), 1u);
  // Stored under the space's directory, inside the packages root.
  EXPECT_EQ(fs::path(store_.PathOf(p)).parent_path(), fs::path(dir_.Sub("packages")) / "spaces-1");
}

TEST_F(PackageStoreTest, MultiBlockUploadIsStoredByteIdentical) {
  // Several full 1 MiB blocks (written with O_DIRECT where the file system allows) and a partial
  // last one (written through the page cache), from odd-sized chunks.
  std::string tar(512, '\0');  // an all-zero header block reads as an empty tar
  for (size_t i = 0; tar.size() < (3 << 20) + 1234; ++i)
    tar += static_cast<char>((i * 2654435761u) >> 13);
  PackageStore store(*db_, dir_.Sub("packages"), 64 << 20);
  auto r = store.Upload("Spaces-1", "Big.Tar.1.0.0.tar", OverwriteMode::kFailIfExists,
                        Chunks(tar, 99'999));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->package.size, static_cast<int64_t>(tar.size()));
  EXPECT_EQ(r->package.sha256, crypto::Sha256Hex(tar));
  EXPECT_EQ(r->package.sha1, crypto::Sha1Hex(tar));
  EXPECT_TRUE(ReadFile(store.PathOf(r->package)) == tar);
}

TEST_F(PackageStoreTest, NupkgIsIdentifiedByItsNuspecEvenWhenNamedPackage) {
  std::string nupkg =
      testing::MakeNupkg(testing::Nuspec("Hello.Lib", "1.0.5.0",
                                         "<title>Hello</title><description>D</description>"
                                         "<releaseNotes>R</releaseNotes><authors>me</authors>"));
  auto r = Put("package", nupkg);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->package.package_id, "Hello.Lib");
  EXPECT_EQ(r->package.version, "1.0.5");
  EXPECT_EQ(r->package.title, "Hello");
  EXPECT_EQ(r->package.description, "D");
  EXPECT_EQ(r->package.release_notes, "R");
  EXPECT_EQ(r->package.authors, "me");
  EXPECT_EQ(r->package.extension, ".nupkg");
}

TEST_F(PackageStoreTest, DuplicatesFollowTheOverwriteMode) {
  auto first = Put("App.1.0.0.zip", zip_);
  ASSERT_TRUE(first);
  // The same version in another spelling is the same package.
  auto dup = Put("App.1.0.zip", zip2_);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.error().message().find("OverwriteExisting or IgnoreIfExists"), std::string::npos);

  auto ignored = Put("app.1.0.0.0.zip", zip2_, OverwriteMode::kIgnoreIfExists);
  ASSERT_TRUE(ignored) << ignored.error().message();
  EXPECT_FALSE(ignored->created);
  EXPECT_EQ(ignored->package.sha256, crypto::Sha256Hex(zip_));
  EXPECT_EQ(Files().size(), 1u);

  auto replaced = Put("App.1.0.0.zip", zip2_, OverwriteMode::kOverwriteExisting);
  ASSERT_TRUE(replaced) << replaced.error().message();
  EXPECT_TRUE(replaced->created);
  EXPECT_EQ(replaced->package.sha256, crypto::Sha256Hex(zip2_));
  store_.AwaitDeletes();          // deleted after the upload answered
  EXPECT_EQ(Files().size(), 1u);  // the replaced file is gone
  EXPECT_EQ(ReadFile(store_.PathOf(replaced->package)), zip2_);
  EXPECT_EQ(store_.List("Spaces-1")->size(), 1u);
}

TEST_F(PackageStoreTest, RefusedAbortedAndMalformedUploadsLeaveNothing) {
  // Over the maximum size (1 MiB here).
  std::string big(2 << 20, 'x');
  auto too_big = Put("Big.1.0.0.zip", big);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code(), ErrorCode::kTooLarge);
  // The client went away half-way.
  auto aborted = store_.Upload("Spaces-1", "Gone.1.0.0.zip", OverwriteMode::kFailIfExists,
                               Chunks(zip_, 10, Error::Io("connection reset")));
  ASSERT_FALSE(aborted);
  EXPECT_EQ(aborted.error().code(), ErrorCode::kIo);
  // Not an archive; a nupkg without a manifest; a bad file name.
  auto garbage = Put("Bad.1.0.0.tar.gz", "not gzip at all");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  auto no_nuspec = Put("package", zip_);
  ASSERT_FALSE(no_nuspec);
  EXPECT_EQ(no_nuspec.error().code(), ErrorCode::kInvalidArgument);
  auto bad_name = Put("../../etc/App.1.0.0.zip", zip_);
  ASSERT_FALSE(bad_name);
  EXPECT_NE(bad_name.error().message().find("path"), std::string::npos);

  EXPECT_TRUE(Files().empty());
  EXPECT_TRUE(store_.List("Spaces-1")->empty());
  EXPECT_FALSE(fs::exists(dir_.Sub("etc")));
}

TEST_F(PackageStoreTest, ListGetFindAndDelete) {
  for (const char* name :
       {"B.1.0.0.zip", "B.1.10.0.zip", "B.1.2.0.zip", "B.2.0.0-rc.1.zip", "a.3.0.0.zip"}) {
    ASSERT_TRUE(Put(name, zip_)) << name;
  }
  auto all = store_.List("Spaces-1").value();
  std::vector<std::string> order;
  for (const auto& p : all) order.push_back(p.package_id + " " + p.version);
  EXPECT_EQ(order, (std::vector<std::string>{"a 3.0.0", "B 2.0.0-rc.1", "B 1.10.0", "B 1.2.0",
                                             "B 1.0.0"}));
  EXPECT_EQ(store_.List("Spaces-1", std::string("b"))->size(), 4u);
  EXPECT_TRUE(store_.List("Spaces-2")->empty());

  auto got = store_.Get("Spaces-1", "PACKAGES-b.1.10.0").value();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->version, "1.10.0");
  EXPECT_FALSE(*store_.Get("Spaces-2", "packages-B.1.10.0"));
  auto found = store_.Find("Spaces-1", "b", "1.2").value();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version, "1.2.0");
  EXPECT_FALSE(*store_.Find("Spaces-1", "b", "nonsense"));

  EXPECT_TRUE(store_.Delete(*found).value());
  EXPECT_FALSE(store_.Delete(*found).value());
  EXPECT_FALSE(fs::exists(store_.PathOf(*found)));
  EXPECT_EQ(Files().size(), 4u);
}

TEST_F(PackageStoreTest, TheDatabaseOrdersAndPagesVersionsBySemVer) {
  for (const char* name : {"B.1.0.0.zip", "B.1.10.0.zip", "B.1.2.0.zip", "B.2.0.0-rc.1.zip",
                           "B.2.0.0-rc.10.zip", "B.2.0.0-rc.2.zip", "a.3.0.0.zip", "c_d.1.0.zip"}) {
    ASSERT_TRUE(Put(name, zip_)) << name;
  }
  auto versions = [&](const repo::PackageFilter& f, repo::PageQuery q = {}) {
    auto page = repo::ListPackages(*db_, f, q);
    EXPECT_TRUE(page) << page.error().message();
    std::vector<std::string> out;
    for (const auto& p : page->items) out.push_back(p.package_id + " " + p.version);
    return std::pair{out, page->total};
  };
  repo::PackageFilter of_b{.space_id = "Spaces-1", .package_id = "b"};
  repo::PageQuery second_page{.skip = 2, .take = 2};
  EXPECT_EQ(versions(of_b, second_page),
            std::pair(std::vector<std::string>{"B 2.0.0-rc.1", "B 1.10.0"}, int64_t{6}));
  repo::PackageFilter stable = of_b;
  stable.stable_only = true;
  EXPECT_EQ(versions(stable).first, (std::vector<std::string>{"B 1.10.0", "B 1.2.0", "B 1.0.0"}));
  repo::PackageFilter latest{.space_id = "Spaces-1", .latest_only = true};
  EXPECT_EQ(
      versions(latest),
      std::pair(std::vector<std::string>{"a 3.0.0", "B 2.0.0-rc.10", "c_d 1.0.0"}, int64_t{3}));
  latest.stable_only = true;
  EXPECT_EQ(versions(latest).first, (std::vector<std::string>{"a 3.0.0", "B 1.10.0", "c_d 1.0.0"}));
  repo::PackageFilter containing{.space_id = "Spaces-1", .id_contains = "_"};
  EXPECT_EQ(versions(containing).first, (std::vector<std::string>{"c_d 1.0.0"}));
}

TEST_F(PackageStoreTest, RowsStoredBeforeVersionOrderGetItAtStart) {
  ASSERT_TRUE(Put("B.1.10.0.zip", zip_));
  ASSERT_TRUE(Put("B.1.2.0.zip", zip_));
  ASSERT_TRUE(db_->Execute("UPDATE packages SET version_order = ''"));
  PackageStore restarted(*db_, dir_.Sub("packages"), 1 << 20);
  auto page = repo::ListPackages(*db_, {.space_id = "Spaces-1"}, {});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].version, "1.10.0");
  EXPECT_EQ(page->items[0].version_order, Version::Parse("1.10.0")->SortKey());
}

TEST_F(PackageStoreTest, RetentionKeepsTheNewestVersionsOfEachId) {
  for (const char* name :
       {"B.1.0.0.zip", "B.1.10.0.zip", "B.1.2.0.zip", "B.2.0.0-rc.1.zip", "a.3.0.0.zip"}) {
    ASSERT_TRUE(Put(name, zip_)) << name;
  }
  EXPECT_EQ(store_.ApplyRetention(0).value(), 0);  // off
  EXPECT_EQ(store_.List("Spaces-1")->size(), 5u);
  EXPECT_EQ(store_.ApplyRetention(2).value(), 2);
  std::vector<std::string> kept;
  auto listed = store_.List("Spaces-1").value();  // a named value: the loop must not dangle
  for (const auto& p : listed) kept.push_back(p.package_id + " " + p.version);
  EXPECT_EQ(kept, (std::vector<std::string>{"a 3.0.0", "B 2.0.0-rc.1", "B 1.10.0"}));
  EXPECT_EQ(Files().size(), 3u);
}

TEST_F(PackageStoreTest, RetentionSweepsWhatACrashedNodeLeftBehind) {
  auto kept = Put("Kept.1.0.0.zip", zip_);
  ASSERT_TRUE(kept);
  const std::string dir = fs::path(store_.PathOf(kept->package)).parent_path().string();
  auto make = [&](const std::string& name, std::chrono::hours age) {
    std::ofstream(dir + "/" + name) << "left behind";
    fs::last_write_time(dir + "/" + name, fs::file_time_type::clock::now() - age);
  };
  // Renamed into place but never recorded (the node died between the two), an hour and more ago.
  make("Orphan.1.0.0_0badf00d.zip", std::chrono::hours(2));
  // The same, moments ago: it may be an upload being recorded right now.
  make("Fresh.1.0.0_0badf00d.zip", std::chrono::hours(0));
  make(".tmp-upload-old", std::chrono::hours(25));
  make(".tmp-upload-recent", std::chrono::hours(2));
  fs::last_write_time(store_.PathOf(kept->package),
                      fs::file_time_type::clock::now() - std::chrono::hours(48));

  EXPECT_EQ(store_.ApplyRetention(0).value(), 0);
  auto files = Files();
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{".tmp-upload-recent", "Fresh.1.0.0_0badf00d.zip",
                                             kept->package.file_name}));
  EXPECT_EQ(ReadFile(store_.PathOf(kept->package)), zip_);
}

TEST_F(PackageStoreTest, ConcurrentUploadsOfOneVersionStoreExactlyOne) {
  constexpr int kThreads = 6;
  std::vector<std::string> bodies;
  for (int i = 0; i < kThreads; ++i) {
    bodies.push_back(testing::MakeArchive(Kind::kZip, {{"a.txt", "body " + std::to_string(i)}}));
  }
  std::atomic<int> created = 0, conflicts = 0, other = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = store_.Upload("Spaces-1", "Race.1.0.0.zip", OverwriteMode::kFailIfExists,
                             Chunks(bodies[i], 100));
      if (r) {
        ++created;
      } else if (r.error().code() == ErrorCode::kAlreadyExists) {
        ++conflicts;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, kThreads - 1);
  EXPECT_EQ(other, 0);
  auto stored = store_.List("Spaces-1").value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(crypto::Sha256Hex(ReadFile(store_.PathOf(stored[0]))), stored[0].sha256);
  EXPECT_EQ(Files().size(), 1u);
}

// Regression (issue 9): a zip cut off halfway or with "../" entries was stored as a package.
TEST_F(PackageStoreTest, UnsafeOrIncompleteArchivesAreRefusedAndLeaveNothing) {
  const std::string whole =
      testing::MakeArchive(Kind::kZip, {{"a.txt", std::string(20000, 'a')}, {"b.txt", "b"}});
  struct Case {
    const char* name;
    std::string data;
    const char* says;
  };
  for (const Case& c : {
           Case{"Cut.1.0.0.zip", whole.substr(0, whole.size() / 2), "end-of-central-directory"},
           Case{"Up.1.0.0.zip", testing::RawZip({{"../x", "evil"}}), "entry '../x'"},
           Case{"Nul.1.0.0.zip", testing::RawZip({{std::string("a\0/../../x", 10), "e"}}),
                "NUL byte"},
           Case{"Abs.1.0.0.tar.gz", testing::MakeArchive(Kind::kTarGz, {{"/etc/x", "e"}}),
                "entry '/etc/x'"},
           Case{"package",
                testing::MakeArchive(
                    Kind::kZip, {{"P.nuspec", testing::Nuspec("P", "1.0")}, {"a/../../b", "e"}}),
                "entry 'a/../../b'"},
           Case{
               "package",
               testing::MakeNupkg("<!DOCTYPE package [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                                  testing::Nuspec("P", "1.0")),
               "document type declaration"},
       }) {
    auto r = Put(c.name, c.data);
    ASSERT_FALSE(r) << c.name << " " << c.says;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << r.error().message();
    EXPECT_TRUE(Files().empty()) << c.says;  // no package file and no temporary file
  }
  EXPECT_TRUE(store_.List("Spaces-1")->empty());
}

// Regression (issue 9): an id plus version longer than the file system allows gave a 500 whose
// message showed the server's storage path.
TEST_F(PackageStoreTest, OverLongIdAndVersionIs400NamingTheLimit) {
  const std::string id(100, 'A');
  const std::string version = "1.0.0-" + std::string(120, 'b');
  auto named = Put(id + "." + version + ".zip", zip_);  // 231 characters: a valid file name
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(named.error().message().find("the limit is 200"), std::string::npos)
      << named.error().message();
  // NuGet push: only the .nuspec names the package.
  auto pushed = Put("package", testing::MakeNupkg(testing::Nuspec(id, version)));
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(pushed.error().message().find("the limit is 200"), std::string::npos);
  for (const auto& e : {named.error(), pushed.error()}) {
    EXPECT_EQ(e.message().find(dir_.Sub("packages")), std::string::npos) << e.message();
  }
  EXPECT_TRUE(Files().empty());
  EXPECT_TRUE(store_.List("Spaces-1")->empty());
  // Just within the limit is stored.
  auto fits = Put(std::string(100, 'A') + "." + "1.0.0-" + std::string(93, 'b') + ".zip", zip_);
  ASSERT_TRUE(fits) << fits.error().message();
}

// Regression (issue 9): I/O failures of the store reached the client with the storage root's
// absolute path in the message.
TEST_F(PackageStoreTest, IoFailuresNeverShowTheStorageRootToTheClient) {
  const std::string root = dir_.Sub("packages");
  auto expect_hidden = [&](const Result<UploadResult>& r) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kIo) << r.error().message();
    http::Response response = http::Response::FromError(r.error());
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body.find(root), std::string::npos) << response.body;
    EXPECT_EQ(response.body.find(dir_.path().string()), std::string::npos) << response.body;
    EXPECT_NE(response.body.find("reference"), std::string::npos) << response.body;
  };
  // The space's directory is a file.
  fs::create_directories(root);
  testing::WriteFile(root + "/spaces-1", "not a directory");
  expect_hidden(Put("A.1.0.0.zip", zip_));
  fs::remove(root + "/spaces-1");
  // The root is a file.
  fs::remove_all(root);
  testing::WriteFile(root, "not a directory");
  expect_hidden(Put("A.1.0.0.zip", zip_));
  // A root whose name is too long for the file system.
  PackageStore long_root(*db_, dir_.Sub(std::string(300, 'r')), 1 << 20);
  expect_hidden(
      long_root.Upload("Spaces-1", "A.1.0.0.zip", OverwriteMode::kFailIfExists, Chunks(zip_)));
}

TEST(OverwriteModeTest, ParsesModesAndLegacyReplace) {
  EXPECT_EQ(ParseOverwriteMode(std::nullopt, std::nullopt).value(), OverwriteMode::kFailIfExists);
  EXPECT_EQ(ParseOverwriteMode("overwriteexisting", std::nullopt).value(),
            OverwriteMode::kOverwriteExisting);
  EXPECT_EQ(ParseOverwriteMode("IgnoreIfExists", "true").value(), OverwriteMode::kIgnoreIfExists);
  EXPECT_EQ(ParseOverwriteMode(std::nullopt, "true").value(), OverwriteMode::kOverwriteExisting);
  EXPECT_EQ(ParseOverwriteMode(std::nullopt, "true/").value(), OverwriteMode::kOverwriteExisting);
  EXPECT_EQ(ParseOverwriteMode(std::nullopt, "false").value(), OverwriteMode::kFailIfExists);
  auto bad = ParseOverwriteMode("Sometimes", std::nullopt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cuttle::feed
