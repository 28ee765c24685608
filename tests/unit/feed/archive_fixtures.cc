#include "feed/archive_fixtures.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace cuttle::feed::testing {

std::string MakeArchive(Kind kind, const Entries& entries) {
  archive* a = archive_write_new();
  if (kind == Kind::kZip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (kind == Kind::kTarGz) archive_write_add_filter_gzip(a);
    if (kind == Kind::kTarBz2) archive_write_add_filter_bzip2(a);
  }
  std::string out(1 << 20, '\0');
  size_t used = 0;
  if (archive_write_open_memory(a, out.data(), out.size(), &used) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const auto& [path, content] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string Nuspec(const std::string& id, const std::string& version,
                   const std::string& extra_metadata) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<package xmlns=\"http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd\">\n"
         "  <metadata>\n    <id>" +
         id + "</id>\n    <version>" + version + "</version>\n" + extra_metadata +
         "  </metadata>\n</package>\n";
}

std::string MakeNupkg(const std::string& nuspec) {
  return MakeArchive(Kind::kZip, {{"[Content_Types].xml", "<Types/>"},
                                  {"Package.nuspec", nuspec},
                                  {"content/readme.txt", "hello"}});
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

namespace {
void Put16(std::string& s, size_t at, uint32_t v) {
  s[at] = static_cast<char>(v & 0xff);
  s[at + 1] = static_cast<char>((v >> 8) & 0xff);
}
void Put32(std::string& s, size_t at, uint32_t v) {
  Put16(s, at, v & 0xffff);
  Put16(s, at + 2, v >> 16);
}
uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xffffffff;
  for (unsigned char b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = crc & 1 ? (crc >> 1) ^ 0xedb88320 : crc >> 1;
  }
  return crc ^ 0xffffffff;
}
}  // namespace

std::string RawZip(const Entries& entries, const std::vector<std::string>& local_names) {
  std::string out;
  std::string central;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [name, content] = entries[i];
    const std::string& local_name = i < local_names.size() ? local_names[i] : name;
    std::string local(30, '\0');
    Put32(local, 0, 0x04034b50);
    Put16(local, 4, 10);
    Put32(local, 14, Crc32(content));
    Put32(local, 18, static_cast<uint32_t>(content.size()));
    Put32(local, 22, static_cast<uint32_t>(content.size()));
    Put16(local, 26, static_cast<uint32_t>(local_name.size()));
    std::string c(46, '\0');
    Put32(c, 0, 0x02014b50);
    Put16(c, 4, 20);
    Put16(c, 6, 10);
    Put32(c, 16, Crc32(content));
    Put32(c, 20, static_cast<uint32_t>(content.size()));
    Put32(c, 24, static_cast<uint32_t>(content.size()));
    Put16(c, 28, static_cast<uint32_t>(name.size()));
    Put32(c, 42, static_cast<uint32_t>(out.size()));
    central += c + name;
    out += local + local_name + content;
  }
  std::string end(22, '\0');
  Put32(end, 0, 0x06054b50);
  Put16(end, 8, static_cast<uint32_t>(entries.size()));
  Put16(end, 10, static_cast<uint32_t>(entries.size()));
  Put32(end, 12, static_cast<uint32_t>(central.size()));
  Put32(end, 16, static_cast<uint32_t>(out.size()));
  return out + central + end;
}

std::string RawTar(const Entries& entries) {
  std::string out;
  for (const auto& [name, content] : entries) {
    std::string h(512, '\0');
    auto put = [&h](size_t at, const std::string& bytes) { h.replace(at, bytes.size(), bytes); };
    put(0, name.substr(0, 100));
    put(100, std::string("0000644\0", 8));
    put(108, std::string("0000000\0", 8));
    put(116, std::string("0000000\0", 8));
    char size[13];
    std::snprintf(size, sizeof(size), "%011o", static_cast<unsigned>(content.size()));
    put(124, size);
    put(136, "00000000000");
    h[156] = '0';
    put(257, std::string("ustar\0"
                         "00",
                         8));
    put(148, "        ");
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    char chk[8];
    std::snprintf(chk, sizeof(chk), "%06o", sum);
    put(148, std::string(chk, 6) + '\0');
    out += h + content + std::string((512 - content.size() % 512) % 512, '\0');
  }
  return out + std::string(1024, '\0');
}

std::string Gzip(const std::string& data) {
  archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  std::string out(data.size() + (1 << 16), '\0');
  size_t used = 0;
  archive_write_open_memory(a, out.data(), out.size(), &used);
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string TarWithSymlink(Kind kind, const std::string& name, const std::string& target,
                           const std::string& after) {
  archive* a = archive_write_new();
  if (kind == Kind::kZip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (kind == Kind::kTarGz) archive_write_add_filter_gzip(a);
  }
  std::string out(1 << 20, '\0');
  size_t used = 0;
  archive_write_open_memory(a, out.data(), out.size(), &used);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFLNK);
  archive_entry_set_symlink(e, target.c_str());
  archive_entry_set_perm(e, 0777);
  archive_write_header(a, e);
  archive_entry_clear(e);
  archive_entry_set_pathname(e, after.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, 2);
  archive_entry_set_perm(e, 0644);
  archive_write_header(a, e);
  archive_write_data(a, "hi", 2);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

}  // namespace cuttle::feed::testing
