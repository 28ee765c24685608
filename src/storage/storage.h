// The shared file store (DESIGN.md §3.3): three roots — packages, artifacts, task logs — each
// configurable and each possibly on another share. Files are written to a unique temporary name
// in their final directory, fsynced and renamed into place, so readers never see a partial file
// and two nodes never write the same file. No advisory locks (unreliable on SMB and NFS).
// Functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::storage {

struct Roots {
  std::string packages;
  std::string artifacts;
  std::string tasklogs;
};

// Creates each root if missing and probes it: a file is written, fsynced, renamed and deleted.
// The error names the setting, the path and the OS error, e.g.
// "storage.tasklogs_dir '/mnt/share/tasklogs': cannot create probe file: Permission denied".
Result<void> Prepare(const Roots& roots);

// Probes one directory as Prepare does.
Result<void> ProbeDirectory(std::string_view setting, const std::string& dir);

// Writes `content` to `dir/name` atomically (temp file + fsync + rename). `name` must be a plain
// file name (no '/', not "." or "..").
Result<void> WriteFileAtomic(const std::string& dir, std::string_view name,
                             std::string_view content);

// True if `name` is a plain file name: non-empty, no '/', '\\' or control characters, not "."/"..".
bool IsPlainFileName(std::string_view name);

// A unique temporary name for a file being written into `dir` by this process.
std::string TempPath(const std::string& dir, std::string_view hint);

}  // namespace cuttle::storage
