// What a package file's name says about it: the id and version (`<PackageId>.<Version>.<ext>`)
// and the extension. What its content says is in nuspec.h (the metadata of a .nupkg) and
// archive_check.h (whether the archive is whole and safe to extract). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "feed/archive_check.h"
#include "feed/nuspec.h"
#include "feed/version.h"

namespace cuttle::feed {

// The extensions the built-in feed accepts, longest first so ".tar.gz" wins over ".gz".
inline constexpr std::string_view kExtensions[] = {".tar.bz2", ".tar.gz", ".nupkg",
                                                   ".tgz",     ".tar",    ".zip"};

// A NuGet-style package id: 1-100 characters of letters, digits, '.', '-' and '_', starting and
// ending with a letter, digit or '_', with no "..".
bool IsValidPackageId(std::string_view id);

// The extension of `name` from kExtensions (case-insensitive, returned lower-case), or nullopt.
std::optional<std::string> ExtensionOf(std::string_view name);

// Checks a file name as a client sent it: 400-style errors name the problem (a path, "..",
// control characters, an unsupported extension).
Result<void> CheckFileName(std::string_view name);

struct FileName {
  std::string package_id;
  Version version;
  std::string extension;  // ".zip", ".tar.gz", ...
};
// Splits `<PackageId>.<Version>.<ext>`: the version starts at the first dot-separated segment that
// begins with a digit ("My.App.1.2.3-beta.zip" -> "My.App", "1.2.3-beta").
Result<FileName> ParseFileName(std::string_view name);

// The longest "<id>.<version>" the feed stores: the stored file name adds "_<8 hex>" and the
// extension (up to 17 bytes), and must fit the file system's limit on one name (NAME_MAX, 255
// bytes on ext4, XFS, NFS and SMB shares).
inline constexpr size_t kMaxIdAndVersionChars = 200;
// A 400-style error naming the limit when `id` and `version` are too long to store.
Result<void> CheckIdAndVersionLength(std::string_view id, std::string_view version);

}  // namespace cuttle::feed
