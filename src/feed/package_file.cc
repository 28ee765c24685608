#include "feed/package_file.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/strings.h"

namespace cuttle::feed {

namespace {

constexpr size_t kMaxNuspecBytes = 1024 * 1024;

bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

std::string ArchiveMessage(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown error";
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Element text with CDATA kept verbatim and the XML entities decoded.
std::string DecodeText(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i).starts_with("<![CDATA[")) {
      size_t end = s.find("]]>", i + 9);
      if (end == std::string_view::npos) end = s.size();
      out.append(s.substr(i + 9, end - i - 9));
      i = end + 3;
      continue;
    }
    if (s[i] == '&') {
      size_t semi = s.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        static constexpr std::pair<std::string_view, char> kNamed[] = {
            {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
        bool done = false;
        for (auto [name, c] : kNamed) {
          if (ent == name) {
            out += c;
            done = true;
          }
        }
        if (!done && ent.size() > 1 && ent[0] == '#') {
          bool hex = ent[1] == 'x' || ent[1] == 'X';
          std::string digits(ent.substr(hex ? 2 : 1));
          char* end = nullptr;
          unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
          if (!digits.empty() && end != nullptr && *end == '\0' && cp > 0 && cp < 0x110000) {
            AppendUtf8(out, static_cast<uint32_t>(cp));
            done = true;
          }
        }
        if (done) {
          i = semi + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return std::string(core::Trim(out));
}

// The text of the first element named `name` (any namespace prefix) inside `xml`; nullopt if
// there is none, "" for an empty or self-closed element.
std::optional<std::string> ElementText(std::string_view xml, std::string_view name) {
  size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    size_t start = pos + 1;
    size_t name_end = start;
    while (name_end < xml.size() && !std::isspace(static_cast<unsigned char>(xml[name_end])) &&
           xml[name_end] != '>' && xml[name_end] != '/') {
      ++name_end;
    }
    std::string_view tag = xml.substr(start, name_end - start);
    if (size_t colon = tag.find(':'); colon != std::string_view::npos) tag = tag.substr(colon + 1);
    pos = name_end;
    if (tag != name) continue;
    size_t close = xml.find('>', name_end);
    if (close == std::string_view::npos) return std::nullopt;
    if (xml[close - 1] == '/') return std::string();
    std::string full_tag(xml.substr(start, name_end - start));
    size_t end = xml.find("</" + full_tag, close + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return DecodeText(xml.substr(close + 1, end - close - 1));
  }
  return std::nullopt;
}

}  // namespace

bool IsValidPackageId(std::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  if (!std::all_of(id.begin(), id.end(), IsIdChar)) return false;
  auto edge = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  return edge(id.front()) && edge(id.back()) && id.find("..") == std::string_view::npos;
}

std::optional<std::string> ExtensionOf(std::string_view name) {
  std::string lower = core::ToLower(name);
  for (auto ext : kExtensions) {
    if (lower.size() > ext.size() && lower.ends_with(ext)) return std::string(ext);
  }
  return std::nullopt;
}

Result<void> CheckFileName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    std::string shown;
    for (char c : name) {
      shown += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    }
    return Fail(
        Error::InvalidArgument("The package file name '" + shown + "' " + std::string(why)));
  };
  if (name.empty()) return bad("is empty.");
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return bad("contains control characters.");
  }
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return bad("contains a path; send only the file name.");
  }
  if (name.find("..") != std::string_view::npos) return bad("contains '..'.");
  if (name.size() > 255) return bad("is longer than 255 characters.");
  if (!ExtensionOf(name)) {
    return bad(
        "has an unsupported extension (expected .nupkg, .zip, .tar.gz, .tgz, .tar or "
        ".tar.bz2).");
  }
  return {};
}

Result<FileName> ParseFileName(std::string_view name) {
  CUTTLE_TRY_VOID(CheckFileName(name));
  std::string ext = *ExtensionOf(name);
  std::string_view stem = name.substr(0, name.size() - ext.size());
  // The version starts at the first dot-separated segment beginning with a digit.
  size_t pos = 0;
  size_t split = std::string_view::npos;
  while (pos < stem.size()) {
    if (std::isdigit(static_cast<unsigned char>(stem[pos]))) {
      split = pos;
      break;
    }
    size_t dot = stem.find('.', pos);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (split == std::string_view::npos) {
    return Fail(Error::InvalidArgument("The package file name '" + std::string(name) +
                                       "' has no version: expected <PackageId>.<Version>" + ext +
                                       ", e.g. MyApp.1.0.0" + ext + "."));
  }
  std::string_view id = split == 0 ? std::string_view() : stem.substr(0, split - 1);
  std::string_view version = stem.substr(split);
  if (!IsValidPackageId(id)) {
    return Fail(Error::InvalidArgument("The package file name '" + std::string(name) +
                                       "' has an invalid package id '" + std::string(id) +
                                       "' (letters, digits, '.', '-' and '_' only)."));
  }
  auto v = Version::Parse(version);
  if (!v) {
    return Fail(Error::InvalidArgument("The package file name '" + std::string(name) +
                                       "' has no parseable version: " + v.error().message()));
  }
  return FileName{std::string(id), *v, ext};
}

Result<Nuspec> ParseNuspec(std::string_view xml) {
  size_t meta = xml.find("metadata");
  // Any namespace prefix is fine ("<package>" or "<ns:package>").
  if (xml.find('<') == std::string_view::npos || xml.find("package") == std::string_view::npos ||
      meta == std::string_view::npos) {
    return Fail(Error::InvalidArgument(
        "The .nuspec is not valid: expected a <package> element with <metadata>."));
  }
  Nuspec n;
  auto id = ElementText(xml, "id");
  auto version = ElementText(xml, "version");
  if (!id || id->empty()) {
    return Fail(Error::InvalidArgument("The .nuspec is not valid: it has no <id>."));
  }
  if (!IsValidPackageId(*id)) {
    return Fail(Error::InvalidArgument("The .nuspec is not valid: <id> '" + *id +
                                       "' is not a valid package id."));
  }
  if (!version || version->empty()) {
    return Fail(Error::InvalidArgument("The .nuspec is not valid: it has no <version>."));
  }
  if (auto v = Version::Parse(*version); !v) {
    return Fail(
        Error::InvalidArgument("The .nuspec is not valid: <version> " + v.error().message()));
  }
  n.id = *id;
  n.version = *version;
  n.title = ElementText(xml, "title").value_or("");
  n.summary = ElementText(xml, "summary").value_or("");
  n.description = ElementText(xml, "description").value_or("");
  n.release_notes = ElementText(xml, "releaseNotes").value_or("");
  n.authors = ElementText(xml, "authors").value_or("");
  return n;
}

Result<Nuspec> ReadNuspec(const std::string& nupkg_path) {
  ArchivePtr a(archive_read_new());
  if (!a) return Fail(Error::Internal("archive_read_new failed"));
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), nupkg_path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return Fail(Error::InvalidArgument("The .nupkg is not a readable zip archive: " +
                                       ArchiveMessage(a.get())));
  }
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
    if (path.find('/') != std::string::npos || !core::ToLower(path).ends_with(".nuspec")) {
      continue;
    }
    std::string xml;
    char buf[16 * 1024];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof(buf));
      if (n < 0) {
        return Fail(Error::InvalidArgument("The .nuspec in the .nupkg cannot be read: " +
                                           ArchiveMessage(a.get())));
      }
      if (n == 0) break;
      xml.append(buf, static_cast<size_t>(n));
      if (xml.size() > kMaxNuspecBytes) {
        return Fail(Error::InvalidArgument("The .nuspec in the .nupkg is larger than 1 MiB."));
      }
    }
    return ParseNuspec(xml);
  }
  return Fail(Error::InvalidArgument("The .nupkg has no .nuspec file at its root."));
}

Result<void> CheckArchive(const std::string& path, std::string_view extension) {
  ArchivePtr a(archive_read_new());
  if (!a) return Fail(Error::Internal("archive_read_new failed"));
  if (extension == ".zip" || extension == ".nupkg") {
    archive_read_support_format_zip(a.get());
  } else {
    archive_read_support_format_tar(a.get());
    if (extension == ".tar.gz" || extension == ".tgz") {
      archive_read_support_filter_gzip(a.get());
    } else if (extension == ".tar.bz2") {
      archive_read_support_filter_bzip2(a.get());
    }
  }
  auto bad = [&]() {
    return Fail(Error::InvalidArgument("The package is not a readable " + std::string(extension) +
                                       " archive: " + ArchiveMessage(a.get())));
  };
  if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) return bad();
  archive_entry* entry = nullptr;
  int r = archive_read_next_header(a.get(), &entry);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN && r != ARCHIVE_EOF) return bad();
  return {};
}

}  // namespace cuttle::feed
