#include "storage/storage.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/ids.h"

namespace cuttle::storage {

namespace {
std::string OsError() { return std::strerror(errno); }

}  // namespace

Result<void> WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(Error::Io(fmt::format("'{}': cannot write: {}", path, OsError())));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

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
  CUTTLE_TRY(auto file, AtomicFile::Create(dir + "/" + std::string(name)));
  CUTTLE_TRY_VOID(file.Write(content));
  return file.Commit();
}

AtomicFile::AtomicFile(std::string final_path, std::string temp_path, int fd, Options options)
    : final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      replace_(options.replace) {}

Result<AtomicFile> AtomicFile::Create(std::string final_path, Options options) {
  // A bare file name lives in the current directory (no `dir = "."`: GCC 12 -Wrestrict misfires).
  std::filesystem::path parent = std::filesystem::path(final_path).parent_path();
  std::string tmp = TempPath(parent.empty() ? std::string(".") : parent.string(), options.hint);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  static_cast<mode_t>(options.mode));
  if (fd < 0) return Fail(Error::Io(fmt::format("'{}': cannot create: {}", tmp, OsError())));
  return AtomicFile(std::move(final_path), std::move(tmp), fd, options);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::exchange(other.temp_path_, std::string())),
      fd_(std::exchange(other.fd_, -1)),
      replace_(other.replace_) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Discard();
    final_path_ = std::move(other.final_path_);
    temp_path_ = std::exchange(other.temp_path_, std::string());
    fd_ = std::exchange(other.fd_, -1);
    replace_ = other.replace_;
  }
  return *this;
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

Result<void> AtomicFile::SetFinalPath(std::string final_path) {
  namespace fs = std::filesystem;
  if (fs::path(final_path).parent_path() != fs::path(final_path_).parent_path()) {
    return Fail(Error::Internal("AtomicFile::SetFinalPath: another directory"));
  }
  final_path_ = std::move(final_path);
  return {};
}

Result<void> AtomicFile::Write(std::string_view data) { return WriteAll(fd_, data, temp_path_); }

Result<void> AtomicFile::SyncData() {
  if (::fdatasync(fd_) != 0) {
    return Fail(Error::Io(fmt::format("'{}': fsync failed: {}", temp_path_, OsError())));
  }
  return {};
}

Result<void> AtomicFile::Commit() {
  if (fd_ < 0) return Fail(Error::Internal("AtomicFile::Commit after Discard"));
  int fd = std::exchange(fd_, -1);
  bool synced = ::fsync(fd) == 0;
  std::string err = synced ? "" : OsError();
  synced = ::close(fd) == 0 && synced;
  Result<void> done;
  if (!synced) {
    done = Fail(Error::Io(fmt::format("'{}': fsync failed: {}", temp_path_, err)));
  } else if (replace_ && ::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    done =
        Fail(Error::Io(fmt::format("'{}': cannot rename into place: {}", final_path_, OsError())));
  } else if (!replace_ && ::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
    done = errno == EEXIST
               ? Fail(Error::AlreadyExists(fmt::format("'{}' already exists", final_path_)))
               : Fail(Error::Io(
                     fmt::format("'{}': cannot link into place: {}", final_path_, OsError())));
  }
  if (done && replace_) temp_path_.clear();  // renamed: nothing left to unlink
  Discard();                                 // a failure, or the link's temporary name
  if (done) SyncDirectory(std::filesystem::path(final_path_).parent_path().string());
  return done;
}

void SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
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
