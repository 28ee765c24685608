#include "storage/storage.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/ids.h"

namespace cuttle::storage {

namespace {
std::string OsError() { return std::strerror(errno); }

Result<void> WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Error::Io(fmt::format("'{}': cannot write: {}", path, OsError())));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}
}  // namespace

bool IsPlainFileName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return false;
  for (unsigned char c : name) {
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string TempPath(const std::string& dir, std::string_view hint) {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{}/.tmp-{}-{}-{}-{}", dir, hint, ::getpid(), counter.fetch_add(1),
                     core::NewUuid().substr(0, 8));
}

Result<void> WriteFileAtomic(const std::string& dir, std::string_view name,
                             std::string_view content) {
  if (!IsPlainFileName(name)) {
    return Fail(Error::InvalidArgument(fmt::format("'{}' is not a plain file name", name)));
  }
  std::string tmp = TempPath(dir, "w");
  std::string final_path = dir + "/" + std::string(name);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Error::Io(fmt::format("'{}': cannot create: {}", tmp, OsError())));
  auto written = WriteAll(fd, content, tmp);
  if (written && ::fsync(fd) != 0) {
    written = Fail(Error::Io(fmt::format("'{}': fsync failed: {}", tmp, OsError())));
  }
  ::close(fd);
  if (written && ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    written =
        Fail(Error::Io(fmt::format("'{}': cannot rename into place: {}", final_path, OsError())));
  }
  if (!written) ::unlink(tmp.c_str());
  return written;
}

Result<void> ProbeDirectory(std::string_view setting, const std::string& dir) {
  auto fail = [&](std::string_view what) {
    return Fail(Error::Io(fmt::format("{} '{}': {}: {}", setting, dir, what, OsError())));
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    errno = ec.value();
    return fail("cannot create directory");
  }
  std::string probe = TempPath(dir, "probe");
  std::string renamed = probe + ".renamed";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create probe file");
  if (::write(fd, "cuttle", 6) != 6) {
    auto r = fail("cannot write probe file");
    ::close(fd);
    ::unlink(probe.c_str());
    return r;
  }
  if (::fsync(fd) != 0) {
    auto r = fail("cannot fsync probe file");
    ::close(fd);
    ::unlink(probe.c_str());
    return r;
  }
  ::close(fd);
  if (::rename(probe.c_str(), renamed.c_str()) != 0) {
    auto r = fail("cannot rename probe file");
    ::unlink(probe.c_str());
    return r;
  }
  if (::unlink(renamed.c_str()) != 0) return fail("cannot delete probe file");
  return {};
}

Result<void> Prepare(const Roots& roots) {
  CUTTLE_TRY_VOID(ProbeDirectory("storage.packages_dir", roots.packages));
  CUTTLE_TRY_VOID(ProbeDirectory("storage.artifacts_dir", roots.artifacts));
  CUTTLE_TRY_VOID(ProbeDirectory("storage.tasklogs_dir", roots.tasklogs));
  return {};
}

}  // namespace cuttle::storage
