#include "engine/package_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <locale.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "core/strings.h"

namespace cuttle::engine {
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using Reader = std::unique_ptr<archive, ReadDeleter>;
using Writer = std::unique_ptr<archive, WriteDeleter>;

std::string Message(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown error";
}

// The name as a reader of an error can see it: control bytes escaped, long names shortened.
std::string Shown(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (name.size() > 200) out += "...";
  return out;
}

Error Refused(std::string_view name, std::string_view why) {
  return Error::InvalidArgument(
      fmt::format("The package was refused: its entry '{}' {}, so it cannot be extracted safely.",
                  Shown(name), why));
}

Error Unreadable(std::string_view why) {
  return Error::InvalidArgument(fmt::format("The package cannot be read: {}.", why));
}

Result<Reader> Open(const std::string& path, PackageFormat format) {
  Reader a(archive_read_new());
  if (!a) return Fail(Error::Internal("archive_read_new failed"));
  switch (format) {
    case PackageFormat::kZip:
    case PackageFormat::kNupkg:
      // The central directory, not the local headers: what the zip says it holds.
      archive_read_support_format_zip_seekable(a.get());
      break;
    case PackageFormat::kTar:
      archive_read_support_format_tar(a.get());
      break;
    case PackageFormat::kTarGz:
      archive_read_support_format_tar(a.get());
      archive_read_support_filter_gzip(a.get());
      break;
    case PackageFormat::kTarBz2:
      archive_read_support_format_tar(a.get());
      archive_read_support_filter_bzip2(a.get());
      break;
  }
  if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return Fail(Unreadable(Message(a.get())));
  }
  return a;
}

// "a\\b", "./a//b" and "a/b" name the same file to the checks (a Windows reader agrees).
std::string Normal(std::string_view name) {
  std::string slashed(name);
  std::replace(slashed.begin(), slashed.end(), '\\', '/');
  std::string out;
  for (const auto& part : core::Split(slashed, '/')) {
    if (part == ".") continue;
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

bool IsExcludedNuGetPart(std::string_view name) {
  static constexpr std::string_view kPrefixes[] = {"_rels/", "package/services/metadata/",
                                                   "_rels\\", "package\\services\\metadata\\",
                                                   "[Content_Types].xml"};
  const std::string lower = core::ToLower(name);
  for (std::string_view prefix : kPrefixes) {
    if (lower.starts_with(core::ToLower(prefix))) return true;
  }
  return lower.ends_with(".nupkg.sha512") || lower.ends_with(".nuspec");
}

struct EntryInfo {
  std::string name;  // as it will be written, relative to the extraction folder
  std::optional<std::string> symlink;
  std::optional<std::string> hardlink;
  bool directory = false;
  bool writable = false;  // a file, folder or link (not a device or fifo)
  bool skipped = false;   // a nupkg's own part
};

// libarchive converts names to the calling thread's locale. In the "C" locale a service often
// runs in, a zip's UTF-8 names (the flag 7-Zip, .NET and Python set) have no such form and come
// back null, so archives are read with this thread in C.UTF-8; names are then UTF-8 bytes, written
// to disk as they are. Other threads and the process locale are untouched.
class Utf8Names {
 public:
  Utf8Names() : utf8_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr))) {
    if (utf8_ != static_cast<locale_t>(nullptr)) previous_ = ::uselocale(utf8_);
  }
  ~Utf8Names() {
    if (utf8_ == static_cast<locale_t>(nullptr)) return;
    ::uselocale(previous_);
    ::freelocale(utf8_);
  }
  Utf8Names(const Utf8Names&) = delete;
  Utf8Names& operator=(const Utf8Names&) = delete;

 private:
  locale_t utf8_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

Result<EntryInfo> Describe(archive_entry* entry, PackageFormat format) {
  const char* raw = archive_entry_pathname(entry);
  if (raw == nullptr) return Fail(Unreadable("an entry's name cannot be read"));
  EntryInfo info;
  info.name = raw;
  if (format == PackageFormat::kNupkg && info.name.find('%') != std::string::npos) {
    info.name = core::UrlDecode(info.name, false);
  }
  if (format == PackageFormat::kNupkg && IsExcludedNuGetPart(info.name)) info.skipped = true;
  const auto type = archive_entry_filetype(entry);
  if (const char* hard = archive_entry_hardlink(entry)) info.hardlink = hard;
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(entry);
    info.symlink = target != nullptr ? target : "";
  }
  info.directory = type == AE_IFDIR;
  info.writable = info.hardlink || type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK;
  return info;
}

// Calls `f` for each entry, with the reader positioned at its data.
Result<void> ForEachEntry(
    const std::string& path, PackageFormat format,
    const std::function<Result<void>(archive*, archive_entry*, const EntryInfo&)>& f) {
  Utf8Names utf8;  // before the reader exists: it learns the locale's character set once
  CUTTLE_TRY(Reader a, Open(path, format));
  archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) return {};
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Fail(Unreadable(Message(a.get())));
    CUTTLE_TRY(EntryInfo info, Describe(entry, format));
    CUTTLE_TRY_VOID(f(a.get(), entry, info));
  }
}

// Resolves a link's target from the link's folder, lexically. Fails when the walk leaves the
// package or passes through another link of the package (whose own target the lexical walk
// cannot see).
bool LinkTargetStaysInside(std::string_view link_name, std::string_view target,
                           const std::set<std::string>& links) {
  if (core::UnsafeArchivePath(link_name) || target.empty() || target.front() == '/' ||
      target.front() == '\\' || target.find('\0') != std::string_view::npos) {
    return false;
  }
  if (target.size() >= 2 && std::isalpha(static_cast<unsigned char>(target[0])) &&
      target[1] == ':') {
    return false;
  }
  std::vector<std::string> at = core::Split(Normal(link_name), '/');
  if (at.empty()) return false;  // a link named "." or "./"
  at.pop_back();                 // the link's own folder
  std::vector<std::string> parts = core::Split(Normal(target), '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "..") {
      if (at.empty()) return false;
      at.pop_back();
      continue;
    }
    at.push_back(parts[i]);
    if (i + 1 < parts.size()) {
      std::string joined;
      for (const auto& p : at) joined += (joined.empty() ? "" : "/") + p;
      if (links.contains(joined)) return false;
    }
  }
  return true;
}

// Whether any proper prefix of `name` is a link of the package.
bool BeneathLink(std::string_view name, const std::set<std::string>& links) {
  const std::string normal = Normal(name);
  for (size_t slash = normal.find('/'); slash != std::string::npos;
       slash = normal.find('/', slash + 1)) {
    if (links.contains(normal.substr(0, slash))) return true;
  }
  return false;
}

}  // namespace

std::optional<PackageFormat> PackageFormatOf(std::string_view file_name) {
  const std::string lower = core::ToLower(file_name);
  if (lower.ends_with(".nupkg")) return PackageFormat::kNupkg;
  if (lower.ends_with(".zip")) return PackageFormat::kZip;
  if (lower.ends_with(".tar.gz") || lower.ends_with(".tgz")) return PackageFormat::kTarGz;
  if (lower.ends_with(".tar.bz2") || lower.ends_with(".tbz2")) return PackageFormat::kTarBz2;
  if (lower.ends_with(".tar")) return PackageFormat::kTar;
  return std::nullopt;
}

Result<void> CheckPackage(const std::string& package_path, PackageFormat format) {
  std::vector<EntryInfo> entries;
  std::set<std::string> links;
  CUTTLE_TRY_VOID(ForEachEntry(
      package_path, format, [&](archive*, archive_entry*, const EntryInfo& info) -> Result<void> {
        if (info.skipped) return {};
        if (auto why = core::UnsafeArchivePath(info.name)) {
          return Fail(Refused(info.name, *why));
        }
        if (info.hardlink) {
          if (auto why = core::UnsafeArchivePath(*info.hardlink)) {
            return Fail(Refused(info.name, "is a hard link that " + *why));
          }
        }
        if (info.symlink) links.insert(Normal(info.name));
        entries.push_back(info);
        return {};
      }));
  // Links are known only once the whole archive has been read: an entry stored before the link
  // it lies beneath is refused too.
  for (const EntryInfo& e : entries) {
    if (BeneathLink(e.name, links)) {
      return Fail(Refused(e.name, "lies beneath a symbolic link of the package"));
    }
    if (e.hardlink && (BeneathLink(*e.hardlink, links) || links.contains(Normal(*e.hardlink)))) {
      return Fail(Refused(e.name, "is a hard link to or through a symbolic link"));
    }
    if (e.symlink && !LinkTargetStaysInside(e.name, *e.symlink, links)) {
      return Fail(Refused(e.name, fmt::format("is a symbolic link to '{}', outside the package",
                                              Shown(*e.symlink))));
    }
  }
  return {};
}

Result<int> ExtractPackage(const std::string& package_path, PackageFormat format,
                           const std::string& directory) {
  CUTTLE_TRY_VOID(CheckPackage(package_path, format));
  Writer w(archive_write_disk_new());
  if (!w) return Fail(Error::Internal("archive_write_disk_new failed"));
  // No ARCHIVE_EXTRACT_PERM: modes keep their permission bits under the umask, never set-uid.
  // UNLINK replaces rather than writes through what an earlier entry left at a name.
  archive_write_disk_set_options(
      w.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  const std::string root = directory.ends_with('/') ? directory : directory + "/";
  int files = 0;
  auto write_entry = [&](archive* a, archive_entry* entry, const EntryInfo& info) -> Result<void> {
    if (info.skipped || !info.writable) return {};
    const std::string target = root + info.name;
    archive_entry_set_pathname(entry, target.c_str());
    if (info.hardlink) archive_entry_set_hardlink(entry, (root + *info.hardlink).c_str());
    if (archive_write_header(w.get(), entry) < ARCHIVE_WARN) {
      return Fail(
          Error::Io(fmt::format("cannot extract '{}': {}", Shown(info.name), Message(w.get()))));
    }
    if (archive_entry_size(entry) > 0 && !info.symlink && !info.directory) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      for (;;) {
        const int r = archive_read_data_block(a, &block, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return Fail(Unreadable(Message(a)));
        if (archive_write_data_block(w.get(), block, size, offset) < ARCHIVE_WARN) {
          return Fail(
              Error::Io(fmt::format("cannot write '{}': {}", Shown(info.name), Message(w.get()))));
        }
      }
    }
    if (archive_write_finish_entry(w.get()) < ARCHIVE_WARN) {
      return Fail(
          Error::Io(fmt::format("cannot finish '{}': {}", Shown(info.name), Message(w.get()))));
    }
    if (!info.directory) ++files;
    return {};
  };
  CUTTLE_TRY_VOID(ForEachEntry(package_path, format, write_entry));
  // Folders get their modification times when the writer closes.
  if (archive_write_close(w.get()) != ARCHIVE_OK) {
    return Fail(Error::Io("cannot finish extracting: " + Message(w.get())));
  }
  return files;
}

}  // namespace cuttle::engine
