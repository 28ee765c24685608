// A package file the feed inspects: owns the descriptor and reads it by offset. Its errors are the
// server's own and never name the file's path. Internal to src/feed. Not thread-safe.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "core/error.h"

namespace cuttle::feed::internal {

class File {
 public:
  static Result<File> Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      if (fd >= 0) ::close(fd);
      // Errors of the store's own file are the server's, and never name its path.
      return Fail(
          Error::Io(fmt::format("cannot open the uploaded file: {}", std::strerror(errno))));
    }
    return File(fd, static_cast<uint64_t>(st.st_size));
  }
  File(File&& o) noexcept : fd_(std::exchange(o.fd_, -1)), size_(o.size_) {}
  File(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  // Reads exactly n bytes at `offset`; false if the file ends first.
  Result<bool> ReadAt(uint64_t offset, void* buf, size_t n) const {
    if (offset > size_ || n > size_ - offset) return false;
    size_t done = 0;
    while (done < n) {
      ssize_t r =
          ::pread(fd_, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        return Fail(
            Error::Io(fmt::format("cannot read the uploaded file: {}", std::strerror(errno))));
      }
      if (r == 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }

 private:
  File(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
};

}  // namespace cuttle::feed::internal
