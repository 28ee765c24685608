// Real packages for the package-deployment tests: zip, tar, tar.gz and tar.bz2 archives built
// with libarchive's writer, holding files, folders and links with any name (including the
// unsafe ones a deployment must refuse).
#pragma once

#include <string>
#include <vector>

namespace cuttle::engine::testing {

struct Entry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink };
  std::string path;
  std::string content;  // files
  Type type = Type::kFile;
  std::string link;  // symbolic or hard links: the target
  int mode = 0644;
};

inline Entry File(std::string path, std::string content, int mode = 0644) {
  return {std::move(path), std::move(content), Entry::Type::kFile, "", mode};
}
inline Entry Directory(std::string path) {
  return {std::move(path), "", Entry::Type::kDirectory, "", 0755};
}
inline Entry Symlink(std::string path, std::string target) {
  return {std::move(path), "", Entry::Type::kSymlink, std::move(target), 0777};
}
inline Entry Hardlink(std::string path, std::string target) {
  return {std::move(path), "", Entry::Type::kHardlink, std::move(target), 0644};
}

enum class Kind { kZip, kTar, kTarGz, kTarBz2 };

// The archive's bytes.
std::string MakeArchive(Kind kind, const std::vector<Entry>& entries);
// Writes the archive to `path` and returns `path`.
std::string WriteArchive(const std::string& path, Kind kind, const std::vector<Entry>& entries);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

}  // namespace cuttle::engine::testing
