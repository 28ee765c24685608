// Builds small real archives (zip, tar, tar.gz) in memory for the feed tests, with libarchive.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cuttle::feed::testing {

using Entries = std::vector<std::pair<std::string, std::string>>;  // path, content

enum class Kind { kZip, kTar, kTarGz, kTarBz2 };
std::string MakeArchive(Kind kind, const Entries& entries);

// A .nupkg (a zip) with `nuspec` at its root as Id.nuspec plus one content file.
std::string MakeNupkg(const std::string& nuspec);
std::string Nuspec(const std::string& id, const std::string& version,
                   const std::string& extra_metadata = "");

void WriteFile(const std::string& path, const std::string& content);

// Hand-made archives whose entry names are raw bytes (NULs, backslashes), which libarchive's
// writer would not produce. A zip of stored entries; `local_names`, if given, replaces the names
// in the local headers (a streaming reader's view).
std::string RawZip(const Entries& entries, const std::vector<std::string>& local_names = {});
// A POSIX ustar archive: `name` is copied into the 100-byte name field as is.
std::string RawTar(const Entries& entries);
// `data` gzip-compressed (the whole stream, as `gzip` would).
std::string Gzip(const std::string& data);
// A tar (pax) with one symbolic link `name` -> `target` and then `after`, a regular file.
std::string TarWithSymlink(Kind kind, const std::string& name, const std::string& target,
                           const std::string& after);

}  // namespace cuttle::feed::testing
