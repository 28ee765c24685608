// Whether an uploaded archive is whole and safe to extract onto a deployment target. The zip
// check reads the whole central directory (and every local header it points at); the tar check
// reads every header to the end of the (decompressed) stream. Both refuse an entry whose name
// would land outside the folder it is extracted into, or that readers disagree about.
// Pure functions over files; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::feed {

// Why an entry named `path` (its bytes as stored in the archive) must not be extracted, e.g.
// "is an absolute path"; nullopt if it may. Refused: empty names, NUL bytes, absolute paths
// ("/x", "\\x", "C:x"), and any '..' segment, with '/' or '\\' as the separator (a segment of
// dots and spaces that holds ".." counts, since Windows drops trailing dots and spaces).
std::optional<std::string> UnsafeEntryPath(std::string_view path);

// Checks that `path` is a complete archive of the kind `extension` names (".zip", ".nupkg",
// ".tar", ".tar.gz", ".tgz", ".tar.bz2") whose every entry may be extracted. Errors are
// kInvalidArgument and name the bad entry or what is wrong with the archive.
Result<void> CheckArchive(const std::string& path, std::string_view extension);

}  // namespace cuttle::feed
