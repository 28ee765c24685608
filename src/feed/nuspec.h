// The metadata of a .nupkg: its .nuspec manifest, read with a real XML parser (expat) by element
// path, package/metadata/<name>, with any namespace prefix ignored. Comments, CDATA and entities
// mean what XML says; a document type declaration is refused, so no entity is ever defined (no
// external entities, no entity expansion bombs). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::feed {

struct Nuspec {
  std::string id;
  std::string version;
  std::string title;
  std::string summary;
  std::string description;
  std::string release_notes;
  std::string authors;
};

// The largest .nuspec read.
inline constexpr size_t kMaxNuspecBytes = 1024 * 1024;

// Reads a .nuspec document. Errors (kInvalidArgument) name the missing, repeated or bad element,
// or where the XML is not well-formed.
Result<Nuspec> ParseNuspec(std::string_view xml);
// Finds the .nuspec at the root of a .nupkg (a zip, read from its central directory) and parses
// it.
Result<Nuspec> ReadNuspec(const std::string& nupkg_path);

}  // namespace cuttle::feed
