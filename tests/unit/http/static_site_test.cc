#include "http/static_site.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"

namespace cuttle::http {
namespace {

const core::TimePoint kNow{std::chrono::milliseconds(1'800'000'000'000)};

std::string HeaderOf(const Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("site/index.html", "<!doctype html><title>app</title>");
    Write("site/assets/index-abc123.js", "console.log(1)");
    Write("site/assets/index-abc123.js.gz", "gz");
    Write("site/assets/index-abc123.js.br", "br");
    Write("site/assets/style-def456.css", "body{}");
    Write("site/assets/style-def456.css.gz", "gz");
    Write("site/favicon.svg", "<svg/>");
    Write("secret.txt", "outside the site");
    Write("site/.env", "hidden");
  }

  void Write(const std::string& rel, const std::string& text) {
    auto p = dir_.path() / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  Response Get(std::string_view rest, std::string accept_encoding = "",
               std::string if_none_match = "") {
    Request req;
    req.method = "GET";
    req.path = "/app/" + std::string(rest);
    if (!accept_encoding.empty()) req.headers["Accept-Encoding"] = accept_encoding;
    if (!if_none_match.empty()) req.headers["If-None-Match"] = if_none_match;
    return site_.Serve(req, rest);
  }

  std::string Served(const Response& r) {
    if (!r.file) return "<no file>";
    return std::filesystem::path(r.file->path).lexically_relative(dir_.path()).string();
  }

  testing::TempDir dir_;
  StaticSite site_{dir_.Sub("site") + "/"};
};

TEST_F(StaticSiteTest, RootServesIndexUncached) {
  Response r = Get("");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Served(r), "site/index.html");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
  EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.file->length, std::filesystem::file_size(dir_.path() / "site/index.html"));
}

TEST_F(StaticSiteTest, ClientRoutesFallBackToIndex) {
  for (std::string_view route : {"projects", "projects/Projects-1/releases/1.0.0", "tasks"}) {
    Response r = Get(route);
    EXPECT_EQ(r.status, 200) << route;
    EXPECT_EQ(Served(r), "site/index.html") << route;
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache") << route;
  }
}

TEST_F(StaticSiteTest, MissingAssetIs404NotIndex) {
  Response r = Get("assets/index-gone.js");
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(r.file.has_value());
}

TEST_F(StaticSiteTest, HashedAssetsAreImmutable) {
  Response r = Get("assets/style-def456.css");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "public, max-age=31536000, immutable");
  // Files outside assets/ keep stable names: they are revalidated.
  EXPECT_EQ(HeaderOf(Get("favicon.svg"), "Cache-Control"), "no-cache");
}

TEST_F(StaticSiteTest, PrecompressedTwinFollowsAcceptEncoding) {
  Response br = Get("assets/index-abc123.js", "gzip, deflate, br");
  EXPECT_EQ(Served(br), "site/assets/index-abc123.js.br");
  EXPECT_EQ(HeaderOf(br, "Content-Encoding"), "br");
  EXPECT_EQ(HeaderOf(br, "Vary"), "Accept-Encoding");
  EXPECT_EQ(br.content_type, "text/javascript; charset=utf-8");

  Response gz = Get("assets/index-abc123.js", "gzip");
  EXPECT_EQ(Served(gz), "site/assets/index-abc123.js.gz");
  EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");

  Response refused = Get("assets/index-abc123.js", "br;q=0, gzip;q=0");
  EXPECT_EQ(Served(refused), "site/assets/index-abc123.js");
  EXPECT_EQ(HeaderOf(refused, "Content-Encoding"), "");
  EXPECT_EQ(HeaderOf(refused, "Vary"), "Accept-Encoding");

  Response plain = Get("assets/index-abc123.js");
  EXPECT_EQ(Served(plain), "site/assets/index-abc123.js");

  // No .br twin: gzip is the best there is.
  Response css = Get("assets/style-def456.css", "br, gzip");
  EXPECT_EQ(Served(css), "site/assets/style-def456.css.gz");
  // No twin at all: identity.
  EXPECT_EQ(Served(Get("index.html", "br, gzip")), "site/index.html");
}

TEST_F(StaticSiteTest, EachEncodingHasItsOwnETag) {
  Response br = Get("assets/index-abc123.js", "br");
  Response plain = Get("assets/index-abc123.js");
  EXPECT_NE(HeaderOf(br, "ETag"), HeaderOf(plain, "ETag"));
  Response again = Get("assets/index-abc123.js", "br", HeaderOf(br, "ETag"));
  EXPECT_EQ(again.status, 304);
  EXPECT_FALSE(again.file.has_value());
  EXPECT_EQ(Get("assets/index-abc123.js", "", HeaderOf(br, "ETag")).status, 200);
}

TEST_F(StaticSiteTest, IndexRevalidatesWithETag) {
  Response first = Get("");
  Response again = Get("", "", "W/" + HeaderOf(first, "ETag"));
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(HeaderOf(again, "Cache-Control"), "no-cache");
}

TEST_F(StaticSiteTest, NoPathLeavesTheFolder) {
  for (std::string_view bad :
       {"../secret.txt", "assets/../../secret.txt", "..", ".", "./index.html", ".env",
        "assets//index-abc123.js", "a\\..\\..\\secret.txt", "assets/..%2f..%2fsecret.txt"}) {
    Response r = Get(bad);
    if (r.file) {
      // Only a fallback to the app itself is acceptable, never another file.
      EXPECT_EQ(Served(r), "site/index.html") << bad;
    } else {
      EXPECT_EQ(r.status, 404) << bad;
    }
  }
  EXPECT_EQ(Get("../secret.txt").status, 404);
  EXPECT_EQ(Get(".env").status, 404);
  EXPECT_EQ(Get(std::string_view("index.html\0x", 12)).status, 404);
}

TEST_F(StaticSiteTest, DirectoryIsNotServedAsAFile) {
  Response r = Get("assets");  // a folder, not a file, and not below assets/: the app
  EXPECT_EQ(Served(r), "site/index.html");
}

TEST_F(StaticSiteTest, UnbuiltPortalIs404) {
  StaticSite empty(dir_.Sub("nowhere"));
  EXPECT_FALSE(empty.HasIndex());
  EXPECT_TRUE(site_.HasIndex());
  Request req;
  req.path = "/app";
  Response r = empty.Serve(req, "");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("not installed"), std::string::npos);
}

// A rolling upgrade: two builds' sites share one published folder and serve each other's assets.
TEST_F(StaticSiteTest, SitesOfTwoBuildsServeEachOthersAssetsThroughTheSharedFolder) {
  Write("new/index.html", "<script src=/app/assets/index-new999.js></script>");
  Write("new/assets/index-new999.js", "console.log(2)");
  Write("new/assets/index-new999.js.br", "br2");
  Write("shared/.half-written.tmp", "x");
  const std::string shared = dir_.Sub("shared/portal-assets");
  StaticSite old_site(dir_.Sub("site"), shared);
  StaticSite new_site(dir_.Sub("new"), shared);

  // Before anything is published the old build lacks the new script: a 404, not index.html.
  Request req;
  req.method = "GET";
  req.path = "/app/assets/index-new999.js";
  EXPECT_EQ(old_site.Serve(req, "assets/index-new999.js").status, 404);

  auto old_published = old_site.PublishAssets(kNow);
  ASSERT_TRUE(old_published) << old_published.error().message();
  EXPECT_EQ(old_published->copied, 5);  // 2 files and their 3 twins
  auto new_published = new_site.PublishAssets(kNow);
  ASSERT_TRUE(new_published);
  EXPECT_EQ(new_published->copied, 2);
  EXPECT_EQ(new_published->pruned, 0);  // the old build's files are current
  // Again (the next start, or another node of the same build): nothing to copy.
  EXPECT_EQ(old_site.PublishAssets(kNow)->copied, 0);
  EXPECT_EQ(new_site.PublishAssets(kNow)->copied, 0);

  Response r = old_site.Serve(req, "assets/index-new999.js");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.file);
  EXPECT_EQ(std::filesystem::path(r.file->path), std::filesystem::path(shared) / "index-new999.js");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  req.headers["Accept-Encoding"] = "br, gzip";
  Response br = old_site.Serve(req, "assets/index-new999.js");
  EXPECT_EQ(HeaderOf(br, "Content-Encoding"), "br");
  ASSERT_TRUE(br.file);
  EXPECT_EQ(std::filesystem::path(br.file->path),
            std::filesystem::path(shared) / "index-new999.js.br");
  req.headers.erase("Accept-Encoding");

  // And the new build serves the old one's.
  req.path = "/app/assets/style-def456.css";
  Response css = new_site.Serve(req, "assets/style-def456.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  // Its own assets it still serves from its own build.
  req.path = "/app/assets/index-new999.js";
  ASSERT_TRUE(new_site.Serve(req, "assets/index-new999.js").file);
  EXPECT_EQ(std::filesystem::path(new_site.Serve(req, "assets/index-new999.js").file->path),
            std::filesystem::path(dir_.Sub("new/assets/index-new999.js")));
  // No temporary file is left, and what neither build has is still a 404.
  for (const auto& e : std::filesystem::directory_iterator(shared)) {
    EXPECT_NE(e.path().filename().string().front(), '.') << e.path();
  }
  req.path = "/app/assets/index-gone.js";
  EXPECT_EQ(new_site.Serve(req, "assets/index-gone.js").status, 404);
  EXPECT_EQ(new_site.Serve(req, "assets/../../secret.txt").status, 404);
}

// Another build's files go once no node of that build has started for kAssetRetention; a start
// of a build marks its files current again, and a killed copy's temporary file goes after an hour.
TEST_F(StaticSiteTest, PublishingPrunesBuildsUnusedForTheRetention) {
  using std::chrono::hours;
  Write("new/index.html", "<script src=/app/assets/index-new999.js></script>");
  Write("new/assets/index-new999.js", "console.log(2)");
  const std::string shared = dir_.Sub("shared/portal-assets");
  StaticSite old_site(dir_.Sub("site"), shared);
  StaticSite new_site(dir_.Sub("new"), shared);
  ASSERT_EQ(old_site.PublishAssets(kNow)->copied, 5);
  Write("shared/portal-assets/.index-new999.js.4242.tmp", "half");
  std::filesystem::last_write_time(dir_.Sub("shared/portal-assets/.index-new999.js.4242.tmp"),
                                   std::chrono::file_clock::from_sys(kNow));

  // A day later the new build starts: the old build's files stay; the day-old temporary goes.
  auto day = new_site.PublishAssets(kNow + hours(24));
  ASSERT_TRUE(day);
  EXPECT_EQ(day->copied, 1);
  EXPECT_EQ(day->pruned, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("shared/portal-assets/.index-new999.js.4242.tmp")));
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("shared/portal-assets/style-def456.css")));

  // The old build starts once more 20 days on, then the new one 40 days after the old one's first
  // start: the old build was marked 20 days before, so it stays.
  EXPECT_EQ(old_site.PublishAssets(kNow + hours(24 * 20))->pruned, 0);
  EXPECT_EQ(new_site.PublishAssets(kNow + hours(24 * 40))->pruned, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("shared/portal-assets/index-abc123.js.br")));

  // 31 days after the old build's last start its five files go; the new build's stay and serve.
  auto month = new_site.PublishAssets(kNow + hours(24 * 51));
  ASSERT_TRUE(month);
  EXPECT_EQ(month->pruned, 5);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(shared)) {
    left.push_back(e.path().filename().string());
  }
  EXPECT_EQ(left, std::vector<std::string>{"index-new999.js"});
  Request req;
  req.path = "/app/assets/style-def456.css";
  EXPECT_EQ(new_site.Serve(req, "assets/style-def456.css").status, 404);
}

TEST_F(StaticSiteTest, PublishingWithoutASharedFolderOrAssetsDoesNothing) {
  EXPECT_EQ(site_.PublishAssets(kNow)->copied, 0);
  StaticSite unbuilt(dir_.Sub("nowhere"), dir_.Sub("shared2"));
  EXPECT_EQ(unbuilt.PublishAssets(kNow)->copied, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("shared2")));
  // A shared folder that cannot be made is an error that names it.
  Write("file-not-dir", "x");
  StaticSite blocked(dir_.Sub("site"), dir_.Sub("file-not-dir/portal-assets"));
  auto r = blocked.PublishAssets(kNow);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("file-not-dir"), std::string::npos);
}

TEST(AcceptedEncodingsTest, ParsesWeightsAndWildcards) {
  using V = std::vector<std::string>;
  EXPECT_EQ(AcceptedEncodings(""), V{});
  EXPECT_EQ(AcceptedEncodings("gzip, deflate, br, zstd"), (V{"br", "gzip"}));
  EXPECT_EQ(AcceptedEncodings("GZIP;q=0.5"), V{"gzip"});
  EXPECT_EQ(AcceptedEncodings("br;q=0.000, gzip"), V{"gzip"});
  EXPECT_EQ(AcceptedEncodings("*"), (V{"br", "gzip"}));
  EXPECT_EQ(AcceptedEncodings("*, br;q=0"), V{"gzip"});
  EXPECT_EQ(AcceptedEncodings("identity"), V{});
  EXPECT_EQ(AcceptedEncodings("x-gzip"), V{"gzip"});
}

}  // namespace
}  // namespace cuttle::http
