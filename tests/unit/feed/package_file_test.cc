#include "feed/package_file.h"

#include <gtest/gtest.h>

#include "feed/archive_fixtures.h"
#include "testing/temp_dir.h"

namespace cuttle::feed {
namespace {

using testing::Kind;

TEST(PackageFileTest, IdAndVersionComeFromTheFileName) {
  struct Case {
    const char* name;
    const char* id;
    const char* version;
    const char* ext;
  };
  for (const Case& c :
       {Case{"HelloApp.1.0.0.zip", "HelloApp", "1.0.0", ".zip"},
        Case{"My.App.1.2.3-beta.zip", "My.App", "1.2.3-beta", ".zip"},
        Case{"My.App.1.2.3-beta.4+sha.5.tar.gz", "My.App", "1.2.3-beta.4", ".tar.gz"},
        Case{"Web_Site.2.0.tgz", "Web_Site", "2.0.0", ".tgz"},
        Case{"a-b.1.2.3.4.tar", "a-b", "1.2.3.4", ".tar"},
        Case{"Tools.1.0.0.0.TAR.BZ2", "Tools", "1.0.0", ".tar.bz2"},
        Case{"Lib.3.1.nupkg", "Lib", "3.1.0", ".nupkg"}}) {
    auto f = ParseFileName(c.name);
    ASSERT_TRUE(f) << c.name << ": " << f.error().message();
    EXPECT_EQ(f->package_id, c.id) << c.name;
    EXPECT_EQ(f->version.Normalized(), c.version) << c.name;
    EXPECT_EQ(f->extension, c.ext) << c.name;
  }
}

TEST(PackageFileTest, BadFileNamesAre400NamingTheProblem) {
  struct Case {
    std::string name;
    const char* says;
  };
  for (const Case& c :
       {Case{"../evil.1.0.0.zip", "contains a path"}, Case{"dir/App.1.0.0.zip", "contains a path"},
        Case{"C:\\temp\\App.1.0.0.zip", "contains a path"}, Case{"App..1.0.0.zip", "contains '..'"},
        Case{std::string("App\x01.1.0.0.zip"), "control characters"},
        Case{"App.1.0.0.zip\n", "control characters"},
        Case{"App.1.0.0.exe", "unsupported extension"}, Case{"App.zip", "has no version"},
        Case{"App.beta.zip", "has no version"}, Case{"1.0.0.zip", "invalid package id"},
        Case{"App.1.2.3.4.5.zip", "no parseable version"},
        Case{"App.1.0-be$ta.zip", "no parseable version"}, Case{"", "is empty"}}) {
    auto f = ParseFileName(c.name);
    ASSERT_FALSE(f) << c.name;
    EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(f.error().message().find(c.says), std::string::npos)
        << c.name << " -> " << f.error().message();
  }
}

TEST(PackageFileTest, PackageIds) {
  for (const char* ok : {"a", "Hello.Lib", "my-app_2", "_x"})
    EXPECT_TRUE(IsValidPackageId(ok)) << ok;
  for (const char* bad : {"", ".a", "a.", "a..b", "a b", "a/b", "-a", "ü"}) {
    EXPECT_FALSE(IsValidPackageId(bad)) << bad;
  }
  EXPECT_FALSE(IsValidPackageId(std::string(101, 'a')));
}

TEST(PackageFileTest, NuspecMetadataIsRead) {
  auto n = ParseNuspec(
      testing::Nuspec("Hello.Lib", "1.0.5",
                      "<title>Hello &amp; Lib</title><authors>a, b</authors>"
                      "<description><![CDATA[Uses <xml> & more]]></description>"
                      "<releaseNotes>Fixed &#x263A; &lt;bug&gt;</releaseNotes><summary/>"
                      "<dependencies><dependency id=\"Other\" version=\"1.0\"/></dependencies>"));
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->id, "Hello.Lib");
  EXPECT_EQ(n->version, "1.0.5");
  EXPECT_EQ(n->title, "Hello & Lib");
  EXPECT_EQ(n->authors, "a, b");
  EXPECT_EQ(n->description, "Uses <xml> & more");
  EXPECT_EQ(n->release_notes, "Fixed \u263A <bug>");
  EXPECT_EQ(n->summary, "");
  // A namespace prefix on the elements is fine too.
  auto prefixed = ParseNuspec(
      "<ns:package xmlns:ns=\"x\"><ns:metadata><ns:id>P</ns:id><ns:version>2.0</ns:version>"
      "</ns:metadata></ns:package>");
  ASSERT_TRUE(prefixed) << prefixed.error().message();
  EXPECT_EQ(prefixed->id, "P");
}

TEST(PackageFileTest, BadNuspecsAreRefused) {
  struct Case {
    std::string xml;
    const char* says;
  };
  for (const Case& c :
       {Case{"not xml at all", "not well-formed XML"},
        Case{"<package><metadata><version>1.0</version></metadata></package>", "has no <id>"},
        Case{"<package><metadata><id>A</id></metadata></package>", "has no <version>"},
        Case{testing::Nuspec("A", "one"), "is not a valid version"},
        Case{testing::Nuspec("../A", "1.0"), "not a valid package id"},
        Case{testing::Nuspec("", "1.0"), "has no <id>"}}) {
    auto n = ParseNuspec(c.xml);
    ASSERT_FALSE(n) << c.xml;
    EXPECT_EQ(n.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(n.error().message().find(c.says), std::string::npos) << n.error().message();
  }
}

TEST(PackageFileTest, NuspecIsFoundInsideTheNupkg) {
  cuttle::testing::TempDir dir;
  std::string path = dir.Sub("p.nupkg");
  testing::WriteFile(path, testing::MakeNupkg(testing::Nuspec("Hello.Lib", "1.0.0-rc.1")));
  auto n = ReadNuspec(path);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->id, "Hello.Lib");
  EXPECT_EQ(n->version, "1.0.0-rc.1");

  // A nuspec in a sub-directory is not the package's manifest.
  testing::WriteFile(path, testing::MakeArchive(Kind::kZip, {{"sub/x.nuspec", "<package/>"}}));
  auto missing = ReadNuspec(path);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("has no .nuspec"), std::string::npos);

  testing::WriteFile(path, "this is not a zip file");
  auto garbage = ReadNuspec(path);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(garbage.error().message().find("not a readable zip"), std::string::npos);
}

TEST(PackageFileTest, ArchivesAreCheckedByTheirExtension) {
  cuttle::testing::TempDir dir;
  std::string path = dir.Sub("a");
  const testing::Entries files = {{"app/run.sh", "echo hi"}};
  struct Case {
    Kind kind;
    const char* ext;
  };
  for (const Case& c :
       {Case{Kind::kZip, ".zip"}, Case{Kind::kTar, ".tar"}, Case{Kind::kTarGz, ".tar.gz"},
        Case{Kind::kTarGz, ".tgz"}, Case{Kind::kTarBz2, ".tar.bz2"}}) {
    testing::WriteFile(path, testing::MakeArchive(c.kind, files));
    auto ok = CheckArchive(path, c.ext);
    EXPECT_TRUE(ok) << c.ext << ": " << (ok ? "" : ok.error().message());
    testing::WriteFile(path, std::string(4096, 'z'));
    auto bad = CheckArchive(path, c.ext);
    ASSERT_FALSE(bad) << c.ext;
    EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(bad.error().message().find(std::string("not a readable ") + c.ext), std::string::npos)
        << bad.error().message();
  }
  // A zip named .tar.gz is not a .tar.gz.
  testing::WriteFile(path, testing::MakeArchive(Kind::kZip, files));
  EXPECT_FALSE(CheckArchive(path, ".tar.gz"));
}

}  // namespace
}  // namespace cuttle::feed
