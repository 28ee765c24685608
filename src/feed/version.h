// Package versions: SemVer 2 plus NuGet's 4-part legacy form. `1.0`, `1.0.0` and `1.0.0.0` are
// the same version (a zero fourth part and a missing third part are dropped/added on
// normalization). Ordering follows SemVer 2: numeric parts compared as numbers, a pre-release
// sorts before its release, pre-release identifiers compared numerically when both are numbers
// and case-insensitively (NuGet) otherwise, build metadata ignored. A plain value; thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cuttle::feed {

class Version {
 public:
  // Accepts MAJOR.MINOR[.PATCH[.REVISION]][-PRERELEASE][+METADATA]; every part a decimal number
  // of at most 9 digits, pre-release and metadata identifiers [0-9A-Za-z-] and non-empty.
  // The error says what is wrong with the text.
  static Result<Version> Parse(std::string_view text);

  // The canonical spelling, used as the stored version: "1.0.0", "1.2.3.4", "1.0.0-beta.2"
  // (REVISION only when non-zero; metadata dropped).
  std::string Normalized() const;
  // Normalized() lower-cased: the identity key (NuGet compares pre-release tags case-blind).
  std::string Key() const;
  // A text whose byte order (SQL COLLATE "C" / SQLite BINARY) is SemVer precedence, so the
  // database can sort and compare versions (the `packages.version_order` column).
  std::string SortKey() const;
  bool IsPrerelease() const { return !prerelease_.empty(); }
  const std::string& original() const { return original_; }

  // SemVer 2 precedence; equal versions compare equal whatever their spelling.
  std::strong_ordering operator<=>(const Version& other) const;
  bool operator==(const Version& other) const { return (*this <=> other) == 0; }

 private:
  int64_t parts_[4] = {0, 0, 0, 0};
  std::vector<std::string> prerelease_;  // dot-separated identifiers
  std::string metadata_;
  std::string original_;
};

}  // namespace cuttle::feed
