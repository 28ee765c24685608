// The built-in package repository: package files under the packages root on shared storage
// ("<root>/<space id lower-cased>/<id>.<version>_<token><ext>") and one row each in `packages`.
//
// Upload streams into a temporary file in the space's directory while hashing (SHA-1, SHA-256),
// checks the archive, fsyncs, renames the file to a name no other upload uses, and only then
// records the row. The unique primary key (space, id, version) decides races between nodes:
// the loser deletes its own file, so every row names a complete file whose hashes it records, and
// an aborted, malformed or refused upload leaves neither file nor row.
//
// Thread-safe: state is in the database and the file system.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "feed/version.h"
#include "repo/packages.h"
#include "storage/remover.h"

namespace cuttle::feed {

// A stored version (its row, repo/packages.h) with what the feed derives from it.
struct Package : repo::PackageRow {
  Version ParsedVersion() const;  // always valid for a stored package
};

enum class OverwriteMode { kFailIfExists, kOverwriteExisting, kIgnoreIfExists };

// Reads `overwriteMode` (FailIfExists | OverwriteExisting | IgnoreIfExists, case-insensitive) and
// the legacy `replace` ("true", also "true/" as nuget.exe appends a slash to the whole source URL).
Result<OverwriteMode> ParseOverwriteMode(std::optional<std::string> overwrite_mode,
                                         std::optional<std::string> replace);

// Yields the upload's bytes chunk by chunk; an empty view is the end.
using ChunkSource = std::function<Result<std::string_view>()>;

struct UploadResult {
  Package package;
  bool created = true;  // false: IgnoreIfExists found it already there
};

class PackageStore {
 public:
  PackageStore(db::Database& db, std::string root, uint64_t max_size_bytes);
  // The destructor finishes the deletions still queued (see AwaitDeletes).
  PackageStore(const PackageStore&) = delete;
  PackageStore& operator=(const PackageStore&) = delete;

  // Stores one package file sent as `file_name`. A name of "package" (nuget.exe) or a .nupkg is
  // identified by its .nuspec, anything else by its name. Errors: kInvalidArgument (bad name,
  // unreadable archive, bad nuspec), kTooLarge (over the maximum size), kAlreadyExists (present
  // under FailIfExists), kIo, and the source's own errors.
  Result<UploadResult> Upload(const std::string& space_id, std::string_view file_name,
                              OverwriteMode mode, const ChunkSource& source);

  // Every version in the space, or every version of one id (case-insensitive), newest first
  // within an id and ids in alphabetical order. (The API's paged lists use repo::ListPackages.)
  Result<std::vector<Package>> List(const std::string& space_id,
                                    const std::optional<std::string>& package_id = std::nullopt);
  // By resource id ("packages-Hello.Lib.1.0.0", case-insensitive).
  Result<std::optional<Package>> Get(const std::string& space_id, std::string_view resource_id);
  // By id and version, any spelling of the version ("1.0" finds "1.0.0").
  Result<std::optional<Package>> Find(const std::string& space_id, std::string_view package_id,
                                      std::string_view version);
  // Removes the row, then the file. False if it was not there.
  Result<bool> Delete(const Package& package);
  // Keeps the newest `keep` versions of each id in each space (0: keep all); returns how many
  // versions were deleted. Also removes what a crashed node left behind: temporary files of
  // uploads older than a day, and package files no row names that are older than an hour.
  Result<int> ApplyRetention(int keep);
  // The file of a package replaced by an overwrite is deleted after the upload has answered, on a
  // background thread (on a filesystem mounted with `discard`, unlinking 1 GiB takes ~0.35 s).
  // Waits until every such deletion queued so far is done.
  void AwaitDeletes();

  std::string PathOf(const Package& p) const;
  uint64_t max_size_bytes() const { return max_size_; }

 private:
  std::string DirOf(const std::string& space_id) const;
  Result<std::optional<Package>> FindByKey(const std::string& space_id, const std::string& id_key,
                                           const std::string& version_key);
  Result<UploadResult> Record(Package p, OverwriteMode mode);
  // Gives rows stored before version_order existed theirs (once, at construction).
  void BackfillVersionOrder();

  db::Database& db_;
  const std::string root_;
  const uint64_t max_size_;

  storage::Remover deleter_;  // replaced package files, removed off the uploading thread
};

}  // namespace cuttle::feed
