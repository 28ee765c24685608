// The feed's one adapter around libarchive's C handles: ownership and error text. Internal to
// src/feed (STYLE.md: backends and internals that other modules never include).
#pragma once

#include <archive.h>

#include <memory>
#include <string>

namespace cuttle::feed::internal {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// libarchive's message for the last failure on `a`. Archives are opened from descriptors, never
// names, so the text cannot carry a server path.
inline std::string ArchiveMessage(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown error";
}

}  // namespace cuttle::feed::internal
