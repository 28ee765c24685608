// Extracts a deployment package onto a target (reference-octopus-deployment-model.md §4.1): zip,
// nupkg, tar, tar.gz/tgz and tar.bz2, with libarchive. Every entry is checked before anything is
// written, so a refused package leaves the directory empty:
//  - names: no empty name, NUL byte, absolute path ("/x", "\\x", "C:x") or '..' segment ('/' and
//    '\\' both separate; a segment of dots and spaces holding ".." counts, as in feed/);
//  - symbolic links: the target, resolved from the link's own folder, stays inside the package
//    and passes through no other link of the package; no entry (or hard-link target) lies
//    beneath a link, wherever the link comes in the archive;
//  - only files, folders and links are written (devices and fifos are skipped); modes keep their
//    permission bits under the umask (never set-uid), and modification times are restored.
// A nupkg is extracted as Calamari does: names are percent-decoded, and NuGet's own parts
// (_rels/, package/services/metadata/, [Content_Types].xml, *.nuspec, *.nupkg.sha512) are left out.
// Pure functions over files; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::engine {

enum class PackageFormat { kZip, kNupkg, kTar, kTarGz, kTarBz2 };

// The format a package file's name says (".zip", ".nupkg", ".tar", ".tar.gz", ".tgz",
// ".tar.bz2", ".tbz2"; case-insensitive); nullopt for any other name.
std::optional<PackageFormat> PackageFormatOf(std::string_view file_name);

// Checks every entry of `package_path` without writing anything. Errors are kInvalidArgument and
// name the entry.
Result<void> CheckPackage(const std::string& package_path, PackageFormat format);

// Checks, then extracts into `directory` (which exists). Returns the number of files written
// (links included, folders not), the figure Calamari reports as Package.ExtractedFileCount.
Result<int> ExtractPackage(const std::string& package_path, PackageFormat format,
                           const std::string& directory);

}  // namespace cuttle::engine
