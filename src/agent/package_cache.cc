#include "agent/package_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "agent/journal.h"
#include "storage/storage.h"

namespace cuttle::agent {

namespace {

Error IoError(std::string_view what, const std::string& path) {
  return Error(ErrorCode::kIo, fmt::format("{} '{}': {}", what, path, std::strerror(errno)));
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

class FileSink final : public DownloadSink {
 public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  bool Start(uint64_t offset) override {
    // The server sent from `offset` (a resumed download) or from 0 (the whole file again).
    if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0) return false;
    return ::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) >= 0;
  }
  bool Write(std::string_view data) override {
    return static_cast<bool>(storage::WriteAll(fd_, data, path_));
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

Result<std::string> FileSha256(const std::string& path) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  CUTTLE_TRY_VOID(ReadBlocks(path, [&](std::string_view block) {
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(block.data()),
                              static_cast<unsigned long long>(block.size()));
  }));
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

Result<std::string> FetchPackage(const std::string& cache_dir, const agentwire::PackageInfo& p,
                                 const RangeFetch& fetch) {
  std::string sha;
  for (char c : p.sha256) sha += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!IsSha256Hex(sha)) {
    return Fail(Error::InvalidArgument(fmt::format(
        "the package {} {} has no valid SHA-256 in the command", p.package_id, p.version)));
  }
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  const std::string final_path = cache_dir + "/" + sha;
  struct stat st {};
  if (::stat(final_path.c_str(), &st) == 0) return final_path;  // verified when it was renamed

  const std::string partial = final_path + ".partial";
  int fd = ::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(IoError("cannot open", partial));
  // Another command (or another agent process) may be fetching the same package: wait for it.
  while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  auto done = [&](Result<std::string> r) {
    ::close(fd);
    return r;
  };
  if (::stat(final_path.c_str(), &st) == 0) return done(final_path);  // the other one finished
  if (::fstat(fd, &st) != 0) return done(Fail(IoError("cannot stat", partial)));
  const uint64_t have = static_cast<uint64_t>(st.st_size);
  if (p.size == 0 || have < p.size) {
    FileSink sink(fd, partial);
    auto fetched = fetch(have, sink);
    if (!fetched) return done(Fail(fetched.error()));
  }
  auto hashed = FileSha256(partial);
  if (!hashed) return done(Fail(hashed.error()));
  const std::string& got = *hashed;
  if (got != sha) {
    ::unlink(partial.c_str());
    return done(Fail(Error::InvalidArgument(
        fmt::format("the package {} {} failed verification: its SHA-256 is {}, the server said {}",
                    p.package_id, p.version, got, sha))));
  }
  if (::fsync(fd) != 0) return done(Fail(IoError("cannot sync", partial)));
  if (::rename(partial.c_str(), final_path.c_str()) != 0) {
    return done(Fail(IoError("cannot rename", partial)));
  }
  storage::SyncDirectory(cache_dir);
  return done(final_path);
}

}  // namespace cuttle::agent
