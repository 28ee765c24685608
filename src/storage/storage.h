// The shared file store (DESIGN.md §3.3): three roots — packages, artifacts, task logs — each
// configurable and each possibly on another share. Files are written to a unique temporary name
// in their final directory, fsynced and renamed into place, so readers never see a partial file
// and two nodes never write the same file. No advisory locks (unreliable on SMB and NFS).
// Functions are thread-safe.
#pragma once

#include <cstdint>
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

// The one way Cuttle writes a file atomically: the bytes go to a unique temporary name in the
// final directory (TempPath), Commit makes them durable (fsync), moves them into place and fsyncs
// the directory, so readers never see a partial file. A file that is not committed is unlinked
// when the AtomicFile is destroyed or Discard()ed, so no early return leaves a temporary behind.
// Not thread-safe, except SyncData, which may run on another thread while one thread writes.
class AtomicFile {
 public:
  struct Options {
    uint32_t mode = 0644;
    // false: Commit fails with kAlreadyExists if the final path exists (link(2), not rename(2)),
    // so two writers never replace each other's file (the master key).
    bool replace = true;
    std::string_view hint = "w";  // part of the temporary name, for whoever lists the directory
  };

  // Creates the temporary file in the directory of `final_path` (which must exist).
  static Result<AtomicFile> Create(std::string final_path, Options options);
  static Result<AtomicFile> Create(std::string final_path) {
    return Create(std::move(final_path), Options{});
  }

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }

  // Changes where Commit moves the file, for a writer that learns the name from the content (a
  // package's id and version). The new path must be in the same directory.
  Result<void> SetFinalPath(std::string final_path);

  Result<void> Write(std::string_view data);
  // Makes what has been written so far durable (fdatasync), e.g. progressively during an upload.
  Result<void> SyncData();
  // fsync, close, rename (or link) into place, fsync the directory. After a failure the
  // temporary file is gone.
  Result<void> Commit();
  // Closes and unlinks the temporary file (idempotent).
  void Discard();

 private:
  AtomicFile(std::string final_path, std::string temp_path, int fd, Options options);

  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  bool replace_ = true;
};

// Writes all of `data` to `fd`, retrying short writes and EINTR; `path` names the file in the
// error.
Result<void> WriteAll(int fd, std::string_view data, const std::string& path);

// Makes a rename in `dir` durable: the directory entry itself is fsynced. Best effort.
void SyncDirectory(const std::string& dir);

}  // namespace cuttle::storage
