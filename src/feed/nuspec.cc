#include "feed/nuspec.h"

#include <archive.h>
#include <archive_entry.h>
#include <expat.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "core/strings.h"
#include "feed/internal/file.h"
#include "feed/internal/libarchive.h"
#include "feed/package_file.h"

namespace cuttle::feed {

namespace {

Error Invalid(std::string_view why) {
  return Error::InvalidArgument("The .nuspec is not valid: " + std::string(why));
}

struct ParserDeleter {
  void operator()(XML_ParserStruct* p) const { XML_ParserFree(p); }
};

// Collects the text of package/metadata/<field> while expat walks the document.
class NuspecReader {
 public:
  NuspecReader() : parser_(XML_ParserCreate(nullptr)) {
    CUTTLE_CHECK(parser_ != nullptr);
    XML_SetUserData(parser_.get(), this);
    XML_SetElementHandler(parser_.get(), &NuspecReader::OnStart, &NuspecReader::OnEnd);
    XML_SetCharacterDataHandler(parser_.get(), &NuspecReader::OnText);
    // No DTD means no entity can be declared: neither external ones (XXE) nor nested ones
    // (billion laughs). A .nuspec never has one.
    XML_SetStartDoctypeDeclHandler(parser_.get(), &NuspecReader::OnDoctype);
    XML_SetEntityDeclHandler(parser_.get(), &NuspecReader::OnEntity);
    XML_SetParamEntityParsing(parser_.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  }

  Result<Nuspec> Read(std::string_view xml) {
    if (xml.size() > kMaxNuspecBytes) return Fail(Invalid("it is larger than 1 MiB."));
    auto status = XML_Parse(parser_.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE);
    if (refused_) return Fail(Invalid(*refused_));
    if (status != XML_STATUS_OK) {
      return Fail(Invalid(fmt::format("it is not well-formed XML ({} at line {}, column {}).",
                                      XML_ErrorString(XML_GetErrorCode(parser_.get())),
                                      XML_GetCurrentLineNumber(parser_.get()),
                                      XML_GetCurrentColumnNumber(parser_.get()))));
    }
    if (!saw_metadata_) return Fail(Invalid("expected a <package> element with <metadata>."));
    return nuspec_;
  }

 private:
  static std::string_view LocalName(const XML_Char* name) {
    std::string_view n(name);
    size_t colon = n.rfind(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
  }

  std::string* Field(std::string_view name) {
    if (name == "id") return &nuspec_.id;
    if (name == "version") return &nuspec_.version;
    if (name == "title") return &nuspec_.title;
    if (name == "summary") return &nuspec_.summary;
    if (name == "description") return &nuspec_.description;
    if (name == "releaseNotes") return &nuspec_.release_notes;
    if (name == "authors") return &nuspec_.authors;
    return nullptr;
  }

  void Refuse(std::string why) {
    if (!refused_) refused_ = std::move(why);
    XML_StopParser(parser_.get(), XML_FALSE);
  }

  static void OnStart(void* self, const XML_Char* name, const XML_Char** /*attributes*/) {
    auto& r = *static_cast<NuspecReader*>(self);
    std::string_view local = LocalName(name);
    r.path_.emplace_back(local);
    if (r.path_.size() == 1 && local != "package") {
      r.Refuse("expected a <package> element with <metadata>, found <" + std::string(local) + ">.");
    } else if (r.path_.size() == 2 && local == "metadata") {
      if (r.saw_metadata_) r.Refuse("it has more than one <metadata>.");
      r.saw_metadata_ = true;
    } else if (r.path_.size() == 3 && r.path_[1] == "metadata") {
      if (std::string* field = r.Field(local)) {
        if (!r.seen_.insert(std::string(local)).second) {
          r.Refuse("it has more than one <" + std::string(local) + ">.");
        }
        r.text_ = field;
      }
    }
  }

  static void OnEnd(void* self, const XML_Char* /*name*/) {
    auto& r = *static_cast<NuspecReader*>(self);
    if (r.path_.size() == 3) r.text_ = nullptr;
    r.path_.pop_back();
  }

  // Text directly inside a metadata field, CDATA sections included; text of nested elements is
  // not the field's.
  static void OnText(void* self, const XML_Char* s, int len) {
    auto& r = *static_cast<NuspecReader*>(self);
    if (r.text_ != nullptr && r.path_.size() == 3) r.text_->append(s, static_cast<size_t>(len));
  }

  static void OnDoctype(void* self, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                        const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    static_cast<NuspecReader*>(self)->Refuse(
        "it has a document type declaration (<!DOCTYPE>), which a .nuspec never needs.");
  }

  static void OnEntity(void* self, const XML_Char* /*name*/, int /*is_parameter*/,
                       const XML_Char* /*value*/, int /*length*/, const XML_Char* /*base*/,
                       const XML_Char* /*sysid*/, const XML_Char* /*pubid*/,
                       const XML_Char* /*notation*/) {
    static_cast<NuspecReader*>(self)->Refuse("it declares an entity.");
  }

  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser_;
  std::vector<std::string> path_;  // local names from the root to the current element
  std::set<std::string> seen_;
  std::string* text_ = nullptr;  // the field whose text is being read
  bool saw_metadata_ = false;
  std::optional<std::string> refused_;
  Nuspec nuspec_;
};

using internal::ArchiveMessage;
using internal::ArchivePtr;

using internal::File;

Result<std::string> ReadEntry(archive* a) {
  std::string xml;
  char buf[16 * 1024];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
    if (n < 0) {
      return Fail(
          Error::InvalidArgument("The .nuspec in the .nupkg cannot be read: " + ArchiveMessage(a)));
    }
    if (n == 0) return xml;
    xml.append(buf, static_cast<size_t>(n));
    if (xml.size() > kMaxNuspecBytes) {
      return Fail(Error::InvalidArgument("The .nuspec in the .nupkg is larger than 1 MiB."));
    }
  }
}

}  // namespace

Result<Nuspec> ParseNuspec(std::string_view xml) {
  CUTTLE_TRY(Nuspec n, NuspecReader().Read(xml));
  for (std::string* s :
       {&n.id, &n.version, &n.title, &n.summary, &n.description, &n.release_notes, &n.authors}) {
    *s = std::string(core::Trim(*s));
  }
  if (n.id.empty()) return Fail(Invalid("it has no <id>."));
  if (!IsValidPackageId(n.id)) {
    return Fail(Invalid("<id> '" + n.id + "' is not a valid package id."));
  }
  if (n.version.empty()) return Fail(Invalid("it has no <version>."));
  if (auto v = Version::Parse(n.version); !v) {
    return Fail(Invalid("<version> " + v.error().message()));
  }
  return n;
}

Result<Nuspec> ReadNuspec(const std::string& nupkg_path) {
  // libarchive gets a descriptor, not the name, so that its messages never show a server path.
  CUTTLE_TRY(File file, File::Open(nupkg_path));
  ArchivePtr a(archive_read_new());
  if (!a) return Fail(Error::Internal("archive_read_new failed"));
  // The central directory's view, as CheckArchive checked it (not the local headers').
  archive_read_support_format_zip_seekable(a.get());
  if (archive_read_open_fd(a.get(), file.fd(), 64 * 1024) != ARCHIVE_OK) {
    return Fail(Error::InvalidArgument("The .nupkg is not a readable zip archive: " +
                                       ArchiveMessage(a.get())));
  }
  std::optional<std::string> xml;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Fail(Error::InvalidArgument("The .nupkg is not a readable zip archive: " +
                                         ArchiveMessage(a.get())));
    }
    const char* p = archive_entry_pathname(entry);
    std::string path = p != nullptr ? p : "";
    if (path.find('/') != std::string::npos || path.find('\\') != std::string::npos ||
        !core::ToLower(path).ends_with(".nuspec")) {
      continue;
    }
    if (xml) {
      return Fail(Error::InvalidArgument("The .nupkg has more than one .nuspec file at its root."));
    }
    CUTTLE_TRY(xml, ReadEntry(a.get()));
  }
  if (!xml) return Fail(Error::InvalidArgument("The .nupkg has no .nuspec file at its root."));
  return ParseNuspec(*xml);
}

}  // namespace cuttle::feed
