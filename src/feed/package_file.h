// What a package file says about itself: the id and version in its file name
// (`<PackageId>.<Version>.<ext>`), the metadata in a .nupkg's .nuspec, and whether an archive can
// be read at all. Pure functions over names, text and files; thread-safe. libarchive failures
// become Errors here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
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

struct Nuspec {
  std::string id;
  std::string version;
  std::string title;
  std::string summary;
  std::string description;
  std::string release_notes;
  std::string authors;
};
// Reads the metadata elements of a .nuspec document. Errors name the missing or bad element.
Result<Nuspec> ParseNuspec(std::string_view xml);
// Finds the .nuspec at the root of a .nupkg (a zip) and parses it.
Result<Nuspec> ReadNuspec(const std::string& nupkg_path);

// Checks that `path` opens as an archive of the kind `extension` names and that its first entry
// (or its end) can be read. Reads only the start of the file, so it costs the same for 1 GiB.
Result<void> CheckArchive(const std::string& path, std::string_view extension);

}  // namespace cuttle::feed
