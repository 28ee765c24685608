#include "engine/package_fixtures.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cuttle::engine::testing {

std::string MakeArchive(Kind kind, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  if (kind == Kind::kZip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (kind == Kind::kTarGz) archive_write_add_filter_gzip(a);
    if (kind == Kind::kTarBz2) archive_write_add_filter_bzip2(a);
  }
  std::string out(4 << 20, '\0');
  size_t used = 0;
  if (archive_write_open_memory(a, out.data(), out.size(), &used) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const Entry& entry : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, entry.path.c_str());
    archive_entry_set_perm(e, static_cast<mode_t>(entry.mode));
    archive_entry_set_mtime(e, 1'700'000'000, 0);
    switch (entry.type) {
      case Entry::Type::kFile:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(entry.content.size()));
        break;
      case Entry::Type::kDirectory:
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case Entry::Type::kSymlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, entry.link.c_str());
        break;
      case Entry::Type::kHardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, entry.link.c_str());
        break;
    }
    if (archive_write_header(a, e) < ARCHIVE_WARN) {
      throw std::runtime_error(archive_error_string(a));
    }
    if (entry.type == Entry::Type::kFile && !entry.content.empty()) {
      archive_write_data(a, entry.content.data(), entry.content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string WriteArchive(const std::string& path, Kind kind, const std::vector<Entry>& entries) {
  WriteFile(path, MakeArchive(kind, entries));
  return path;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cuttle::engine::testing
