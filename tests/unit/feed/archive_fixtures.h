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

}  // namespace cuttle::feed::testing
