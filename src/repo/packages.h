// The built-in feed's package versions: rows of `packages`, one per stored version, keyed by space,
// lower-cased id and normalized version (feed/package_store.h owns the files and the upload
// protocol; this is its data access). Versions are ordered by `version_order`, a text whose byte
// order is SemVer precedence (feed::Version::SortKey), so lists sort and page in SQL.
// Stateless; thread-safe as the Database is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct PackageRow {
  std::string space_id;
  std::string package_id;  // as first pushed, e.g. "Hello.Lib"
  std::string version;     // normalized, e.g. "1.0.0"
  std::string title;
  std::string summary;
  std::string description;
  std::string release_notes;
  std::string authors;
  std::string file_name;  // in the space's directory
  std::string extension;  // ".nupkg", ".zip", ...
  int64_t size = 0;
  std::string sha1;    // hex
  std::string sha256;  // hex
  int64_t published = 0;
  std::string version_order;  // feed::Version::SortKey()

  // Octopus's resource id: "packages-Hello.Lib.1.0.0".
  std::string resource_id() const { return "packages-" + package_id + "." + version; }
};

struct PackageFilter {
  std::string space_id;
  std::optional<std::string> package_id;   // exactly this id, case-insensitively
  std::optional<std::string> id_contains;  // ids containing this, case-insensitively
  bool latest_only = false;                // the newest version of each id
  bool stable_only = false;                // no pre-release versions
  std::optional<std::string> extension;    // e.g. ".nupkg"
};

// Ids in byte order of their lower-cased spelling, newest version first within an id.
Result<Page<PackageRow>> ListPackages(db::Database& db, const PackageFilter& f, const PageQuery& q);
Result<std::vector<PackageRow>> ListAllPackages(db::Database& db, const PackageFilter& f);

// By lower-cased id and version key (feed::Version::Key).
Result<std::optional<PackageRow>> FindPackage(db::Database& db, const std::string& space_id,
                                              const std::string& id_key,
                                              const std::string& version_key);
// By Octopus resource id ("packages-Hello.Lib.1.0.0"), case-insensitively.
Result<std::optional<PackageRow>> FindPackageByResourceId(db::Database& db,
                                                          const std::string& space_id,
                                                          std::string_view resource_id);

// Inserts the row (published = now_ms()); nullopt when the version is already there and
// `if_absent` asked to keep it (otherwise that is kAlreadyExists).
Result<std::optional<PackageRow>> InsertPackage(db::Database& db, const PackageRow& p,
                                                bool if_absent);
Result<std::optional<PackageRow>> InsertPackage(db::Transaction& tx, const PackageRow& p,
                                                bool if_absent);
// Deletes the version whatever file it names; returns the file names it named.
Result<std::vector<std::string>> DeletePackageVersion(db::Transaction& tx,
                                                      const std::string& space_id,
                                                      const std::string& id_key,
                                                      const std::string& version_key);
// Deletes the version only while it still names `file_name` (an overwrite may have replaced it).
Result<bool> DeletePackage(db::Database& db, const PackageRow& p);

// (space id, id key) of every id with more than `keep` versions (retention).
Result<std::vector<std::pair<std::string, std::string>>> PackageIdsWithMoreThan(db::Database& db,
                                                                                int keep);
// (space id, file name) of every row: the files that must stay.
Result<std::vector<std::pair<std::string, std::string>>> PackageFiles(db::Database& db);

// Rows stored before version_order existed (it is empty), and setting theirs.
Result<std::vector<PackageRow>> PackagesWithoutVersionOrder(db::Database& db);
Result<void> SetVersionOrder(db::Database& db, const PackageRow& p);

}  // namespace cuttle::repo
