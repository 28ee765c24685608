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

// Checks that `path` is a complete archive of the kind `extension` names (".zip", ".nupkg",
// ".tar", ".tar.gz", ".tgz", ".tar.bz2") whose every entry may be extracted. Errors are
// kInvalidArgument and name the bad entry or what is wrong with the archive.
Result<void> CheckArchive(const std::string& path, std::string_view extension);

}  // namespace cuttle::feed
