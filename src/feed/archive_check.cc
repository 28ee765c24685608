#include "feed/archive_check.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "core/strings.h"
#include "feed/internal/file.h"
#include "feed/internal/libarchive.h"

namespace cuttle::feed {

namespace {

// A pax or GNU long-name record is a few hundred bytes; more is not a name.
constexpr uint64_t kMaxMetaEntryBytes = 1 << 20;
// A central directory of a million entries is about 64 MiB.
constexpr uint64_t kMaxCentralDirectoryBytes = 64 << 20;
// Decompressing more than this many times the upload's size is a bomb, not a package (gzip
// cannot exceed ~1032:1; a real package stays far below).
constexpr uint64_t kMaxExpansion = 1024;
constexpr uint64_t kMinExpansionAllowance = 1ull << 30;

// The name as a reader of the error can see it: control bytes escaped, long names shortened.
std::string Shown(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 200)) {
    if (c == 0) {
      out += "\\0";
    } else if (c < 0x20 || c == 0x7f) {
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

Error Unreadable(std::string_view extension, std::string_view why) {
  return Error::InvalidArgument(
      fmt::format("The package is not a readable {} archive: {}.", extension, why));
}

Result<void> CheckEntry(std::string_view name) {
  if (auto why = core::UnsafeArchivePath(name)) return Fail(Refused(name, *why));
  return {};
}

// Whether a symbolic link at `entry` pointing at `target` stays inside the extraction folder,
// resolving '..' lexically from the link's own directory.
bool LinkStaysInside(std::string_view entry, std::string_view target) {
  if (target.empty() || target[0] == '/' || target[0] == '\\') return false;
  if (target.size() >= 2 && std::isalpha(static_cast<unsigned char>(target[0])) &&
      target[1] == ':') {
    return false;
  }
  if (target.find('\0') != std::string_view::npos) return false;
  int depth = 0;
  auto walk = [&depth](std::string_view path, bool drop_last) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (size_t i = 0; i <= path.size(); ++i) {
      if (i == path.size() || path[i] == '/' || path[i] == '\\') {
        parts.push_back(path.substr(start, i - start));
        start = i + 1;
      }
    }
    if (drop_last && !parts.empty()) parts.pop_back();
    for (auto part : parts) {
      if (part.empty() || part == ".") continue;
      depth += part == ".." ? -1 : 1;
      if (depth < 0) return false;
    }
    return true;
  };
  return walk(entry, true) && walk(target, false);
}

// Entries that go through a symbolic link stored earlier ("link" -> "/etc", then
// "link/passwd") escape whatever the link's own target looked like to the check.
class LinkTracker {
 public:
  Result<void> Check(std::string_view name, std::optional<std::string_view> symlink_target) {
    std::string normal = Normal(name);
    for (size_t slash = normal.find('/'); slash != std::string::npos;
         slash = normal.find('/', slash + 1)) {
      if (links_.contains(normal.substr(0, slash))) {
        return Fail(Refused(name, "goes through a symbolic link stored earlier in the archive"));
      }
    }
    if (symlink_target) {
      if (!LinkStaysInside(name, *symlink_target)) {
        return Fail(Refused(name, fmt::format("is a symbolic link to '{}', outside the package",
                                              Shown(*symlink_target))));
      }
      links_.insert(std::move(normal));
    }
    return {};
  }

 private:
  // "a\\b", "./a//b" and "a/b" name the same file.
  static std::string Normal(std::string_view name) {
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
  std::set<std::string> links_;
};

// ---- zip: the central directory and the local headers it points at ----

uint16_t U16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t U32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint64_t U64(const unsigned char* p) { return U32(p) | static_cast<uint64_t>(U32(p + 4)) << 32; }

using internal::File;

struct ZipDirectory {
  uint64_t entries = 0;
  uint64_t offset = 0;  // of the central directory
  uint64_t size = 0;
};

// Finds the end-of-central-directory record (and its zip64 form) and checks that the central
// directory ends exactly where it begins: a zip cut off anywhere fails here.
Result<ZipDirectory> FindZipDirectory(const File& f, std::string_view ext) {
  constexpr size_t kEocd = 22;
  const uint64_t tail_len = std::min<uint64_t>(f.size(), kEocd + 0xFFFF);
  std::vector<unsigned char> tail(tail_len);
  CUTTLE_TRY(bool got, f.ReadAt(f.size() - tail_len, tail.data(), tail.size()));
  if (!got || tail_len < kEocd) return Fail(Unreadable(ext, "it is too short to be a zip"));
  std::optional<size_t> at;
  for (size_t i = tail_len - kEocd + 1; i-- > 0;) {
    if (U32(&tail[i]) == 0x06054b50 && i + kEocd + U16(&tail[i + 20]) == tail_len) {
      at = i;
      break;
    }
  }
  if (!at) {
    return Fail(Unreadable(
        ext, "it has no end-of-central-directory record (the file is cut off or not a zip)"));
  }
  const unsigned char* e = &tail[*at];
  const uint64_t eocd_pos = f.size() - tail_len + *at;
  if (U16(e + 4) != 0 || U16(e + 6) != 0 || U16(e + 8) != U16(e + 10)) {
    return Fail(Unreadable(ext, "multi-volume zips are not supported"));
  }
  ZipDirectory d{U16(e + 10), U32(e + 16), U32(e + 12)};
  uint64_t directory_end = eocd_pos;
  unsigned char loc[20];
  CUTTLE_TRY(bool has_loc, eocd_pos >= 20 ? f.ReadAt(eocd_pos - 20, loc, 20) : Result<bool>(false));
  if (has_loc && U32(loc) == 0x07064b50) {  // zip64
    const uint64_t z64_pos = U64(loc + 8);
    unsigned char z[56];
    CUTTLE_TRY(bool got64, f.ReadAt(z64_pos, z, sizeof(z)));
    if (!got64 || U32(z) != 0x06064b50 || z64_pos + 56 > eocd_pos - 20) {
      return Fail(Unreadable(ext, "its zip64 end-of-central-directory record is damaged"));
    }
    d = {U64(z + 32), U64(z + 48), U64(z + 40)};
    directory_end = z64_pos;
  }
  if (d.offset > directory_end || d.size != directory_end - d.offset) {
    return Fail(Unreadable(ext, "its central directory is not where its end record says"));
  }
  if (d.size > kMaxCentralDirectoryBytes) {
    return Fail(Unreadable(ext, "its central directory is larger than 64 MiB"));
  }
  return d;
}

struct ZipExtra {
  std::optional<uint64_t> zip64_compressed;
  std::optional<uint64_t> zip64_offset;
  std::optional<std::string_view> unicode_name;  // Info-ZIP 0x7075, which readers prefer
};

// Reads the extra fields that change what an entry is called or where it lies.
ZipExtra ReadExtra(std::string_view extra, bool want_compressed, bool want_offset,
                   bool want_uncompressed) {
  ZipExtra x;
  while (extra.size() >= 4) {
    auto p = reinterpret_cast<const unsigned char*>(extra.data());
    uint16_t id = U16(p);
    size_t len = std::min<size_t>(U16(p + 2), extra.size() - 4);
    std::string_view body = extra.substr(4, len);
    auto b = reinterpret_cast<const unsigned char*>(body.data());
    if (id == 0x0001) {  // zip64: the fields that overflowed, in this order
      size_t o = 0;
      auto next = [&]() -> std::optional<uint64_t> {
        if (o + 8 > body.size()) return std::nullopt;
        uint64_t v = U64(b + o);
        o += 8;
        return v;
      };
      if (want_uncompressed) next();
      if (want_compressed) x.zip64_compressed = next();
      if (want_offset) x.zip64_offset = next();
    } else if (id == 0x7075 && body.size() >= 5) {
      x.unicode_name = body.substr(5);
    }
    extra.remove_prefix(4 + len);
  }
  return x;
}

Result<void> CheckLocalHeader(const File& f, std::string_view ext, std::string_view central_name,
                              uint64_t offset, uint64_t compressed, uint64_t directory_offset) {
  unsigned char h[30];
  CUTTLE_TRY(bool got, f.ReadAt(offset, h, sizeof(h)));
  if (!got || U32(h) != 0x04034b50 || offset + 30 > directory_offset) {
    return Fail(Unreadable(
        ext, fmt::format("the local header of entry '{}' is missing", Shown(central_name))));
  }
  const uint16_t name_len = U16(h + 26);
  const uint16_t extra_len = U16(h + 28);
  std::string local(name_len + extra_len, '\0');
  CUTTLE_TRY(bool got_name, f.ReadAt(offset + 30, local.data(), local.size()));
  const uint64_t data_start = offset + 30 + local.size();
  if (!got_name || data_start > directory_offset || compressed > directory_offset - data_start) {
    return Fail(Unreadable(
        ext, fmt::format("entry '{}' runs past the central directory", Shown(central_name))));
  }
  // A streaming reader goes by the local header, so its name must be safe too.
  std::string_view local_name = std::string_view(local).substr(0, name_len);
  CUTTLE_TRY_VOID(CheckEntry(local_name));
  ZipExtra x = ReadExtra(std::string_view(local).substr(name_len), false, false, false);
  if (x.unicode_name) CUTTLE_TRY_VOID(CheckEntry(*x.unicode_name));
  return {};
}

Result<void> CheckZipDirectory(const File& f, std::string_view ext) {
  CUTTLE_TRY(ZipDirectory d, FindZipDirectory(f, ext));
  std::string cd(d.size, '\0');
  CUTTLE_TRY(bool got, f.ReadAt(d.offset, cd.data(), cd.size()));
  if (!got) return Fail(Unreadable(ext, "its central directory is cut off"));
  auto p = reinterpret_cast<const unsigned char*>(cd.data());
  uint64_t pos = 0;
  uint64_t count = 0;
  while (pos < cd.size()) {
    if (cd.size() - pos < 46 || U32(p + pos) != 0x02014b50) {
      return Fail(Unreadable(ext, fmt::format("central directory entry {} is damaged", count + 1)));
    }
    const unsigned char* h = p + pos;
    const size_t name_len = U16(h + 28);
    const size_t extra_len = U16(h + 30);
    const size_t comment_len = U16(h + 32);
    if (cd.size() - pos - 46 < name_len + extra_len + comment_len) {
      return Fail(Unreadable(ext, fmt::format("central directory entry {} is damaged", count + 1)));
    }
    std::string_view name(cd.data() + pos + 46, name_len);
    CUTTLE_TRY_VOID(CheckEntry(name));
    uint64_t compressed = U32(h + 20);
    uint64_t offset = U32(h + 42);
    ZipExtra x =
        ReadExtra(std::string_view(cd.data() + pos + 46 + name_len, extra_len),
                  compressed == 0xFFFFFFFF, offset == 0xFFFFFFFF, U32(h + 24) == 0xFFFFFFFF);
    if (x.unicode_name) CUTTLE_TRY_VOID(CheckEntry(*x.unicode_name));
    if (x.zip64_compressed) compressed = *x.zip64_compressed;
    if (x.zip64_offset) offset = *x.zip64_offset;
    CUTTLE_TRY_VOID(CheckLocalHeader(f, ext, name, offset, compressed, d.offset));
    pos += 46 + name_len + extra_len + comment_len;
    ++count;
  }
  if (count != d.entries) {
    return Fail(Unreadable(
        ext, fmt::format("its central directory holds {} entries, its end record says {}", count,
                         d.entries)));
  }
  return {};
}

using internal::ArchiveMessage;
using internal::ArchivePtr;

// libarchive's view of the same zip, from the central directory (the seekable reader): the
// targets of symbolic links are known only to it.
// libarchive is handed descriptors, never names: its messages then cannot name a server path.
Result<void> CheckZipLinks(const File& f, std::string_view ext) {
  ArchivePtr a(archive_read_new());
  if (!a) return Fail(Error::Internal("archive_read_new failed"));
  archive_read_support_format_zip_seekable(a.get());
  if (archive_read_open_fd(a.get(), f.fd(), 64 * 1024) != ARCHIVE_OK) {
    return Fail(Unreadable(ext, ArchiveMessage(a.get())));
  }
  LinkTracker links;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) return {};
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Fail(Unreadable(ext, ArchiveMessage(a.get())));
    const char* name = archive_entry_pathname(entry);
    const char* target = archive_entry_symlink(entry);
    std::string_view n = name != nullptr ? name : "";
    CUTTLE_TRY_VOID(CheckEntry(n));
    CUTTLE_TRY_VOID(links.Check(n, archive_entry_filetype(entry) == AE_IFLNK
                                       ? std::optional<std::string_view>(target ? target : "")
                                       : std::nullopt));
  }
}

// ---- tar: every 512-byte header of the decompressed stream ----

Error CutOff(std::string_view ext) { return Unreadable(ext, "it is cut off inside an entry"); }

// The decompressed bytes of a tar, read forward.
class TarStream {
 public:
  virtual ~TarStream() = default;
  // Reads up to n bytes; fewer only at the end of the stream.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual Result<void> Skip(uint64_t n) = 0;
  // Reads what follows the end-of-archive blocks, so that a compressed stream cut off after
  // them (or with a wrong checksum) is found too.
  virtual Result<void> Finish() { return {}; }
};

class PlainTar : public TarStream {
 public:
  PlainTar(File f, std::string_view ext) : f_(std::move(f)), ext_(ext) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, f_.size() - std::min(pos_, f_.size())));
    CUTTLE_TRY(bool got, f_.ReadAt(pos_, buf, take));
    if (!got) take = 0;
    pos_ += take;
    return take;
  }
  Result<void> Skip(uint64_t n) override {
    if (n > f_.size() - std::min(pos_, f_.size())) return Fail(CutOff(ext_));
    pos_ += n;
    return {};
  }

 private:
  File f_;
  std::string_view ext_;
  uint64_t pos_ = 0;
};

// libarchive decompresses (gzip, bzip2) and hands the tar out as one raw stream.
class CompressedTar : public TarStream {
 public:
  CompressedTar(ArchivePtr a, uint64_t limit, std::string_view ext)
      : a_(std::move(a)), limit_(limit), ext_(ext) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      la_ssize_t r = archive_read_data(a_.get(), buf + done, n - done);
      if (r < 0) return Fail(Unreadable(ext_, ArchiveMessage(a_.get())));
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    total_ += done;
    if (total_ > limit_) {
      return Fail(
          Unreadable(ext_, fmt::format("it expands to more than {} bytes, over {} times its size",
                                       limit_, kMaxExpansion)));
    }
    return done;
  }
  Result<void> Finish() override {
    char scratch[64 * 1024];
    for (;;) {
      CUTTLE_TRY(size_t got, Read(scratch, sizeof(scratch)));
      if (got == 0) return {};
    }
  }
  Result<void> Skip(uint64_t n) override {
    char scratch[64 * 1024];
    while (n > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(n, sizeof(scratch)));
      CUTTLE_TRY(size_t got, Read(scratch, want));
      if (got == 0) return Fail(CutOff(ext_));
      n -= got;
    }
    return {};
  }

 private:
  ArchivePtr a_;
  uint64_t limit_;
  std::string_view ext_;
  uint64_t total_ = 0;
};

// A NUL-padded header field; a NUL followed by anything but NULs hides bytes from some readers.
Result<std::string_view> Field(const char* h, size_t off, size_t len) {
  std::string_view f(h + off, len);
  size_t nul = f.find('\0');
  if (nul == std::string_view::npos) return f;
  if (size_t last = f.find_last_not_of('\0'); last != std::string_view::npos && last > nul) {
    return Fail(Refused(f.substr(0, last + 1), "has a NUL byte inside its name field"));
  }
  return f.substr(0, nul);
}

std::optional<uint64_t> Number(const char* p, size_t len) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if (u[0] & 0x80) {                        // base-256 (GNU, star)
    if (u[0] != 0x80) return std::nullopt;  // negative or beyond 2^56
    uint64_t v = 0;
    for (size_t i = 1; i < len; ++i) {
      if (v >> 56) return std::nullopt;
      v = v << 8 | u[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < len && (p[i] == ' ' || p[i] == '\0')) ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + static_cast<uint64_t>(p[i] - '0');
    any = true;
  }
  for (; i < len; ++i) {
    if (p[i] != ' ' && p[i] != '\0') return std::nullopt;
  }
  return any ? v : 0;
}

bool ChecksumMatches(const char* h) {
  auto stored = Number(h + 148, 8);
  if (!stored) return false;
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    char c = i >= 148 && i < 156 ? ' ' : h[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  return *stored == unsigned_sum || static_cast<int64_t>(*stored) == signed_sum;
}

// What pax ('x') or GNU ('L', 'K') records say about the next entry.
struct Pending {
  std::optional<std::string> path;
  std::optional<std::string> link;
  std::optional<uint64_t> size;
};

Result<void> ReadPax(std::string_view data, Pending& next, std::string_view ext) {
  while (!data.empty()) {
    size_t space = data.find(' ');
    auto len =
        space == std::string_view::npos ? std::nullopt : core::ParseInt(data.substr(0, space));
    if (!len || *len <= static_cast<int64_t>(space) + 1 ||
        static_cast<size_t>(*len) > data.size() || data[static_cast<size_t>(*len) - 1] != '\n') {
      return Fail(Unreadable(ext, "a pax extended header is damaged"));
    }
    std::string_view record = data.substr(space + 1, static_cast<size_t>(*len) - space - 2);
    size_t eq = record.find('=');
    if (eq == std::string_view::npos) {
      return Fail(Unreadable(ext, "a pax extended header is damaged"));
    }
    std::string_view key = record.substr(0, eq);
    std::string_view value = record.substr(eq + 1);
    if (key == "path") next.path = std::string(value);
    if (key == "linkpath") next.link = std::string(value);
    if (key == "size") {
      auto n = core::ParseInt(value);
      if (!n || *n < 0) return Fail(Unreadable(ext, "a pax size is not a number"));
      next.size = static_cast<uint64_t>(*n);
    }
    data.remove_prefix(static_cast<size_t>(*len));
  }
  return {};
}

// A GNU long name: the name, NUL-terminated; a NUL inside hides the rest from some readers.
Result<std::string> LongName(std::string data) {
  while (!data.empty() && data.back() == '\0') data.pop_back();
  if (data.find('\0') != std::string::npos) {
    return Fail(Refused(data, "has a NUL byte inside its long name"));
  }
  return data;
}

Result<void> WalkTar(TarStream& in, std::string_view ext) {
  auto bad = [&](std::string_view why) { return Fail(Unreadable(ext, why)); };
  bool first = true;
  char h[512];
  Pending next;
  LinkTracker links;
  for (;;) {
    CUTTLE_TRY(size_t got, in.Read(h, sizeof(h)));
    if (got == 0 && first) return bad("it is empty");
    // Without the end-of-archive blocks: what GNU tar and libarchive accept too.
    if (got == 0 && !next.path && !next.link && !next.size) return in.Finish();
    if (got < sizeof(h)) return bad("it is cut off inside a header");
    first = false;
    if (std::all_of(h, h + 512, [](char c) { return c == '\0'; })) return in.Finish();
    if (!ChecksumMatches(h)) {
      return bad("a header's checksum is wrong (damaged, or not a tar)");
    }
    auto header_size = Number(h + 124, 12);
    if (!header_size) return bad("a header's size is not a number");
    const char type = h[156];
    const bool posix = std::string_view(h + 257, 6) == std::string_view("ustar\0", 6);
    CUTTLE_TRY(std::string_view short_name, Field(h, 0, 100));
    CUTTLE_TRY(std::string_view link_name, Field(h, 157, 100));
    std::string name(short_name);
    if (posix) {
      CUTTLE_TRY(std::string_view prefix, Field(h, 345, 155));
      if (!prefix.empty()) name = std::string(prefix) + "/" + name;
    }
    if (type == 'x' || type == 'X' || type == 'L' || type == 'K') {
      if (*header_size > kMaxMetaEntryBytes) {
        return bad("an extended header is larger than 1 MiB");
      }
      std::string data(*header_size, '\0');
      CUTTLE_TRY(size_t n, in.Read(data.data(), data.size()));
      if (n < data.size()) return bad("it is cut off inside a header");
      CUTTLE_TRY_VOID(in.Skip((512 - data.size() % 512) % 512));
      if (type == 'L') {
        CUTTLE_TRY(next.path, LongName(std::move(data)));
      } else if (type == 'K') {
        CUTTLE_TRY(next.link, LongName(std::move(data)));
      } else {
        CUTTLE_TRY_VOID(ReadPax(data, next, ext));
      }
      continue;
    }
    if (next.path) name = *next.path;
    std::string link = next.link ? *next.link : std::string(link_name);
    const uint64_t size = next.size.value_or(*header_size);
    next = Pending{};
    if (type == 'g') {  // global pax header: applies to no entry by name
      CUTTLE_TRY_VOID(in.Skip((size + 511) / 512 * 512));
      continue;
    }
    CUTTLE_TRY_VOID(CheckEntry(name));
    if (type == '1') CUTTLE_TRY_VOID(CheckEntry(link));
    CUTTLE_TRY_VOID(
        links.Check(name, type == '2' ? std::optional<std::string_view>(link) : std::nullopt));
    // Readers disagree on whether these carry data, so on where the next header starts.
    if ((type == '2' || type == '3' || type == '4' || type == '5' || type == '6') && size != 0) {
      return Fail(Refused(name, "is a link, device or directory with a non-zero size"));
    }
    if (type == 'S' && h[482] != '\0') {  // old GNU sparse: more sparse maps follow the header
      char sparse[512];
      do {
        CUTTLE_TRY(size_t n, in.Read(sparse, sizeof(sparse)));
        if (n < sizeof(sparse)) return bad("it is cut off inside a header");
      } while (sparse[504] != '\0');
    }
    CUTTLE_TRY_VOID(in.Skip((size + 511) / 512 * 512));
  }
}

Result<void> CheckTar(const std::string& path, std::string_view ext) {
  CUTTLE_TRY(File f, File::Open(path));
  if (ext == ".tar") {
    PlainTar plain(std::move(f), ext);
    return WalkTar(plain, ext);
  }
  ArchivePtr a(archive_read_new());
  if (!a) return Fail(Error::Internal("archive_read_new failed"));
  if (ext == ".tar.bz2") {
    archive_read_support_filter_bzip2(a.get());
  } else {
    archive_read_support_filter_gzip(a.get());
  }
  archive_read_support_format_raw(a.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_fd(a.get(), f.fd(), 64 * 1024) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    return Fail(Unreadable(ext, ArchiveMessage(a.get())));
  }
  // Only the named compression: the raw format also takes an uncompressed file.
  if (archive_filter_count(a.get()) < 2) {
    return Fail(
        Unreadable(ext, fmt::format("it is not {} data", ext == ".tar.bz2" ? "bzip2" : "gzip")));
  }
  const uint64_t limit = std::max(kMinExpansionAllowance, f.size() * kMaxExpansion);
  CompressedTar stream(std::move(a), limit, ext);  // destroyed before `f` closes the descriptor
  return WalkTar(stream, ext);
}

}  // namespace

Result<void> CheckArchive(const std::string& path, std::string_view extension) {
  if (extension == ".zip" || extension == ".nupkg") {
    CUTTLE_TRY(File f, File::Open(path));
    CUTTLE_TRY_VOID(CheckZipDirectory(f, extension));
    return CheckZipLinks(f, extension);
  }
  if (extension == ".tar" || extension == ".tar.gz" || extension == ".tgz" ||
      extension == ".tar.bz2") {
    return CheckTar(path, extension);
  }
  return Fail(Error::InvalidArgument(fmt::format("'{}' is not a package extension", extension)));
}

}  // namespace cuttle::feed
