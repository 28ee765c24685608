// Regression (issue 9): the .nuspec reader was a string search, so the first element named `id`
// anywhere won, and comments, CDATA and DOCTYPE entities were not understood.
#include "feed/nuspec.h"

#include <gtest/gtest.h>

#include "feed/archive_fixtures.h"

namespace cuttle::feed {
namespace {

constexpr const char* kOpen =
    "<?xml version=\"1.0\"?>\n"
    "<package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\">\n";

TEST(NuspecTest, OnlyPackageMetadataIdCountsNotTheFirstIdAnywhere) {
  auto n = ParseNuspec(std::string(kOpen) +
                       "<!-- <metadata><id>Commented.Out</id></metadata> -->\n"
                       "<metadata>\n"
                       "  <dependencies><group><dependency id=\"Dep\"><id>Dep.Id</id>"
                       "<version>9.9.9</version></dependency></group></dependencies>\n"
                       "  <title><![CDATA[<id>Cdata.Id</id>]]></title>\n"
                       "  <!-- <id>Another.Comment</id> -->\n"
                       "  <id>Real.Id</id>\n  <version>1.2.3</version>\n"
                       "  <description>A <![CDATA[<b>bold</b>]]> &amp; plain</description>\n"
                       "</metadata>\n"
                       "<files><file><id>Files.Id</id></file></files>\n"
                       "</package>\n");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->id, "Real.Id");
  EXPECT_EQ(n->version, "1.2.3");
  EXPECT_EQ(n->title, "<id>Cdata.Id</id>");
  EXPECT_EQ(n->description, "A <b>bold</b> & plain");
}

TEST(NuspecTest, NamespacePrefixesAreIgnoredAndElementsOutsideMetadataAreNotRead) {
  auto n = ParseNuspec(
      "<n:package xmlns:n=\"urn:x\"><n:id>Outside</n:id><n:metadata><n:id>P</n:id>"
      "<n:version>2.0</n:version><n:releaseNotes>notes</n:releaseNotes></n:metadata>"
      "</n:package>");
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->id, "P");
  EXPECT_EQ(n->release_notes, "notes");
  // <id> only in a dependency: the package has no id.
  auto none = ParseNuspec(std::string(kOpen) +
                          "<metadata><dependencies><dependency><id>Dep</id></dependency>"
                          "</dependencies><version>1.0</version></metadata></package>");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("has no <id>"), std::string::npos);
}

TEST(NuspecTest, DoctypeAndEntitiesAreRefused) {
  const std::string laughs =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE package [\n<!ENTITY a \"aaaaaaaaaa\">\n"
      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
      "]>\n<package><metadata><id>A</id><version>1.0</version><description>&c;</description>"
      "</metadata></package>";
  const std::string xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE package [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
      "<package><metadata><id>A</id><version>1.0</version><description>&x;</description>"
      "</metadata></package>";
  const std::string external =
      "<!DOCTYPE package SYSTEM \"http://example.invalid/x.dtd\">" + testing::Nuspec("A", "1.0");
  for (const std::string& xml : {laughs, xxe, external}) {
    auto n = ParseNuspec(xml);
    ASSERT_FALSE(n) << xml;
    EXPECT_EQ(n.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(n.error().message().find("document type declaration"), std::string::npos)
        << n.error().message();
    EXPECT_EQ(n.error().message().find("root:"), std::string::npos);
  }
  // An entity that was never declared is not well-formed XML.
  auto undeclared = ParseNuspec(testing::Nuspec("A", "1.0", "<title>&x;</title>"));
  ASSERT_FALSE(undeclared);
  EXPECT_NE(undeclared.error().message().find("not well-formed"), std::string::npos);
}

TEST(NuspecTest, RepeatedOrMalformedElementsAreRefused) {
  struct Case {
    std::string xml;
    const char* says;
  };
  for (const Case& c : {
           Case{testing::Nuspec("A", "1.0", "<id>B</id>"), "more than one <id>"},
           Case{testing::Nuspec("A", "1.0", "<version>2.0</version>"), "more than one <version>"},
           Case{"<package><metadata><id>A</id><version>1.0</version></metadata>"
                "<metadata/></package>",
                "more than one <metadata>"},
           Case{"<nuspec><metadata><id>A</id></metadata></nuspec>", "found <nuspec>"},
           Case{"<package><metadata><id>A</id><version>1.0</version></metadata>",
                "not well-formed"},
           Case{"<package/>", "expected a <package> element with <metadata>"},
       }) {
    auto n = ParseNuspec(c.xml);
    ASSERT_FALSE(n) << c.xml;
    EXPECT_NE(n.error().message().find(c.says), std::string::npos) << n.error().message();
  }
}

TEST(NuspecTest, Utf16WithBomIsRead) {
  std::string utf8 = testing::Nuspec("Wide.Id", "3.0", "<title>caf\xc3\xa9</title>");
  utf8.replace(utf8.find("utf-8"), 5, "utf-16");
  std::string utf16 = "\xff\xfe";
  for (unsigned char c : utf8) {
    if (c < 0x80) {
      utf16 += static_cast<char>(c);
      utf16 += '\0';
    }
  }
  // é (U+00E9), the one non-ASCII character, was dropped above: put it back as UTF-16LE.
  size_t at = utf16.find(std::string("c\0a\0f\0", 6));
  ASSERT_NE(at, std::string::npos);
  utf16.insert(at + 6, std::string("\xe9\0", 2));
  auto n = ParseNuspec(utf16);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(n->id, "Wide.Id");
  EXPECT_EQ(n->title, "caf\xc3\xa9");
}

}  // namespace
}  // namespace cuttle::feed
