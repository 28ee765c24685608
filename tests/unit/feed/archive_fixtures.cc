#include "feed/archive_fixtures.h"

#include <archive.h>
#include <archive_entry.h>

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

}  // namespace cuttle::feed::testing
