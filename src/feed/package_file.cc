#include "feed/package_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/strings.h"

namespace cuttle::feed {

namespace {

bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

bool IsValidPackageId(std::string_view id) {
  if (id.empty() || id.size() > 100) return false;
  if (!std::all_of(id.begin(), id.end(), IsIdChar)) return false;
  auto edge = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  return edge(id.front()) && edge(id.back()) && id.find("..") == std::string_view::npos;
}

std::optional<std::string> ExtensionOf(std::string_view name) {
  std::string lower = core::ToLower(name);
  for (auto ext : kExtensions) {
    if (lower.size() > ext.size() && lower.ends_with(ext)) return std::string(ext);
  }
  return std::nullopt;
}

Result<void> CheckFileName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    std::string shown;
    for (char c : name) {
      shown += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    }
    return Fail(
        Error::InvalidArgument("The package file name '" + shown + "' " + std::string(why)));
  };
  if (name.empty()) return bad("is empty.");
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return bad("contains control characters.");
  }
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return bad("contains a path; send only the file name.");
  }
  if (name.find("..") != std::string_view::npos) return bad("contains '..'.");
  if (name.size() > 255) return bad("is longer than 255 characters.");
  if (!ExtensionOf(name)) {
    return bad(
        "has an unsupported extension (expected .nupkg, .zip, .tar.gz, .tgz, .tar or "
        ".tar.bz2).");
  }
  return {};
}

Result<FileName> ParseFileName(std::string_view name) {
  CUTTLE_TRY_VOID(CheckFileName(name));
  std::string ext = *ExtensionOf(name);
  std::string_view stem = name.substr(0, name.size() - ext.size());
  // The version starts at the first dot-separated segment beginning with a digit.
  size_t pos = 0;
  size_t split = std::string_view::npos;
  while (pos < stem.size()) {
    if (std::isdigit(static_cast<unsigned char>(stem[pos]))) {
      split = pos;
      break;
    }
    size_t dot = stem.find('.', pos);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (split == std::string_view::npos) {
    return Fail(Error::InvalidArgument("The package file name '" + std::string(name) +
                                       "' has no version: expected <PackageId>.<Version>" + ext +
                                       ", e.g. MyApp.1.0.0" + ext + "."));
  }
  std::string_view id = split == 0 ? std::string_view() : stem.substr(0, split - 1);
  std::string_view version = stem.substr(split);
  if (!IsValidPackageId(id)) {
    return Fail(Error::InvalidArgument("The package file name '" + std::string(name) +
                                       "' has an invalid package id '" + std::string(id) +
                                       "' (letters, digits, '.', '-' and '_' only)."));
  }
  auto v = Version::Parse(version);
  if (!v) {
    return Fail(Error::InvalidArgument("The package file name '" + std::string(name) +
                                       "' has no parseable version: " + v.error().message()));
  }
  return FileName{std::string(id), *v, ext};
}

Result<void> CheckIdAndVersionLength(std::string_view id, std::string_view version) {
  const size_t length = id.size() + 1 + version.size();
  if (length <= kMaxIdAndVersionChars) return {};
  return Fail(Error::InvalidArgument(fmt::format(
      "The package id and version are {} characters long together; the limit is {} (id, '.' and "
      "version), so that the stored file name fits the file system's limit of 255 bytes.",
      length, kMaxIdAndVersionChars)));
}

}  // namespace cuttle::feed
