#include "tasks/artifacts.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/strings.h"
#include "crypto/crypto.h"
#include "repo/settings.h"
#include "storage/storage.h"

namespace cuttle::tasks {

namespace {
Artifact ReadArtifact(const db::Row& r) {
  return Artifact{r.GetString("id"),       r.GetString("space_id"), r.GetString("server_task_id"),
                  r.GetString("filename"), r.GetInt("size"),        r.GetInt("created")};
}
constexpr const char* kColumns = "id, space_id, server_task_id, filename, size, created";

constexpr size_t kCopyChunk = 1 << 20;

// The hint in the temporary name of a node's artifact copy: '@' is in no node name, so one node's
// prefix is never the start of another's.
std::string TempHint(const std::string& node) { return "artifact@" + node + "@"; }

Error Refused(const std::string& path, std::string_view why) {
  return Error::InvalidArgument(fmt::format("'{}' {}", path, why));
}

std::optional<std::string> RealPath(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return std::nullopt;
  std::string out(real);
  std::free(real);
  return out;
}

bool Inside(const std::string& root, const std::string& path) {
  return path.size() > root.size() + 1 && path.starts_with(root) && path[root.size()] == '/';
}

// Where the open file really is: what was opened, whatever was swapped after the check.
std::optional<std::string> PathOfFd(int fd) {
  return RealPath(fmt::format("/proc/self/fd/{}", fd));
}

// Opens `real` (a resolved path inside `root`) for reading, never through a symlink in any of its
// components: openat2 resolves it beneath `root` and refuses symlinks, so a directory swapped for
// a symlink after realpath() fails the open. Kernels before 5.6 lack openat2; there the last
// component is opened with O_NOFOLLOW and the open file's real path is checked afterwards.
int OpenBeneath(const std::string& root, const std::string& real) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused after the open).
  constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  open_how how{};
  how.flags = kFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  std::string relative = real.substr(root.size() + 1);
  int fd = static_cast<int>(::syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof(how)));
  int saved = errno;
  ::close(dir);
  // ENOSYS: a kernel before 5.6. EPERM: a seccomp filter (older container runtimes' default
  // profiles) that does not know openat2; a real permission error fails the plain open as well.
  if (fd < 0 && (saved == ENOSYS || saved == EPERM)) {
    fd = ::open(real.c_str(), kFlags);
    auto opened = fd >= 0 ? PathOfFd(fd) : std::optional<std::string>(real);
    if (!opened || !Inside(root, *opened)) {
      ::close(fd);
      fd = -1;
      saved = EXDEV;
    }
  }
  errno = saved;
  return fd;
}

// Reads exactly source.size() bytes of `source` into `out`, asking `should_stop` between chunks.
Result<void> CopyInto(ArtifactSource& source, storage::AtomicFile& out,
                      const StopCheck& should_stop, const std::string& name) {
  std::string buf(kCopyChunk, '\0');
  int64_t left = source.size();
  for (;;) {
    if (should_stop) {
      if (auto why = should_stop(); !why.empty()) {
        return Fail(Error::Conflict(fmt::format("the copy of '{}' was stopped ({})", name, why)));
      }
    }
    // One byte more than is left: a file still growing is caught, not cut.
    size_t want = static_cast<size_t>(std::min<int64_t>(left + 1, kCopyChunk));
    ssize_t n = ::read(source.fd(), buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Fail(Error::Io(fmt::format("cannot read '{}': {}", name, std::strerror(errno))));
    }
    if (n > left) return Fail(Refused(name, "grew while it was being collected"));
    if (n == 0) break;
    CUTTLE_TRY_VOID(out.Write(std::string_view(buf.data(), static_cast<size_t>(n))));
    left -= n;
  }
  if (left != 0) return Fail(Refused(name, "shrank while it was being collected"));
  return {};
}
}  // namespace

Result<ArtifactSource> ArtifactSource::Open(const std::string& work_dir, const std::string& path,
                                            std::optional<int64_t> declared_length,
                                            int64_t max_bytes) {
  auto root = RealPath(work_dir);
  if (!root) return Fail(Error::Io("the task's working folder is gone"));
  std::string given = !path.empty() && path[0] == '/' ? path : work_dir + "/" + path;
  auto real = RealPath(given);
  if (!real) return Fail(Refused(path, "does not exist"));
  constexpr std::string_view kOutside =
      "is not inside the task's working folder: only files the script made there are collected";
  if (!Inside(*root, *real)) return Fail(Refused(path, kOutside));
  // Named from here on as in its folder: new_octopusartifact passes the full path.
  std::string shown = real->substr(root->size() + 1);
  int fd = OpenBeneath(*root, *real);
  if (fd < 0 && (errno == ELOOP || errno == EXDEV)) return Fail(Refused(path, kOutside));
  if (fd < 0) {
    return Fail(Refused(shown, fmt::format("cannot be opened: {}", std::strerror(errno))));
  }
  ArtifactSource source(fd, 0);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Fail(Refused(shown, "is not a regular file"));
  }
  source.size_ = st.st_size;
  if (source.size_ > max_bytes) {
    return Fail(Error::TooLarge(fmt::format(
        "'{}' is {} bytes, more than the {} bytes an artifact may have (tasks.max_artifact_bytes)",
        shown, source.size_, max_bytes)));
  }
  if (declared_length && *declared_length != source.size_) {
    return Fail(Refused(shown, fmt::format("is {} bytes, but the script declared a length of {}",
                                           source.size_, *declared_length)));
  }
  return source;
}

ArtifactSource::ArtifactSource(ArtifactSource&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

ArtifactSource& ArtifactSource::operator=(ArtifactSource&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

ArtifactSource::~ArtifactSource() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ArtifactStore::PathOf(const Artifact& a) const {
  return root_ + "/" + core::ToLower(a.server_task_id) + "/" + a.filename;
}

Result<Artifact> ArtifactStore::Collect(const Lease& lease, const std::string& space_id,
                                        ArtifactSource& source, const std::string& name,
                                        const StopCheck& should_stop) {
  if (!storage::IsPlainFileName(name)) {
    return Fail(Error::InvalidArgument(fmt::format(
        "the artifact name '{}' is not a plain file name: it may not contain '/', '\\', '..' or "
        "control characters",
        name)));
  }
  std::string dir = root_ + "/" + core::ToLower(lease.task_id);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Error::Io(fmt::format("cannot create '{}': {}", dir, ec.message())));
  std::string final_path = dir + "/" + name;
  std::string hint = TempHint(lease.node);
  CUTTLE_TRY(auto file, storage::AtomicFile::Create(final_path, {.hint = hint}));
  CUTTLE_TRY_VOID(CopyInto(source, file, should_stop, name));
  CUTTLE_TRY_VOID(file.Commit());
  int64_t size = source.size();
  Artifact a;
  auto inserted = db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(a.id, repo::NextId(tx, "Artifacts"));
    // A fenced insert: the row is written only while the lease holds.
    repo::Where held;
    AddLeaseHeld(held, lease);
    db::Params params = held.params();
    for (db::Value v : {db::Value(a.id), db::Value(space_id), db::Value(lease.task_id),
                        db::Value(name), db::Value(size)}) {
      params.push_back(std::move(v));
    }
    CUTTLE_TRY(auto rs,
               tx.Execute(std::string("INSERT INTO artifacts (id, space_id, server_task_id, "
                                      "filename, size, created) SELECT $4, $5, $6, $7, $8, "
                                      "now_ms() WHERE EXISTS (SELECT 1 FROM server_tasks") +
                              held.Sql() + ") RETURNING " + kColumns,
                          params));
    if (rs.empty()) return Fail(Error::LostOwnership(lease.task_id + " is no longer ours"));
    a = ReadArtifact(rs.front());
    return {};
  });
  if (!inserted) {
    // Another artifact of the same name was collected before: the file was replaced atomically;
    // keep its row. Losing the lease means the file must not stay either.
    if (inserted.error().code() == ErrorCode::kLostOwnership) ::unlink(final_path.c_str());
    return Fail(inserted.error());
  }
  return a;
}

namespace {

// The row of a stored file, in the caller's transaction: `fence` first (it may refuse), then the
// insert, then `then` (Store and a piece upload's last step share it).
Result<Artifact> InsertFenced(db::Transaction& tx, const std::string& space_id,
                              const std::string& task_id, const std::string& name, int64_t size,
                              const ArtifactStore::InTx& fence, const ArtifactStore::InTx& then) {
  Artifact pending;
  pending.space_id = space_id;
  pending.server_task_id = task_id;
  pending.filename = name;
  pending.size = size;
  if (fence) {
    CUTTLE_TRY_VOID(fence(tx, pending));
  }
  CUTTLE_TRY(auto id, repo::NextId(tx, "Artifacts"));
  CUTTLE_TRY(auto rs, tx.Execute(std::string("INSERT INTO artifacts (id, space_id, "
                                             "server_task_id, filename, size, created) VALUES "
                                             "($1, $2, $3, $4, $5, now_ms()) RETURNING ") +
                                     kColumns,
                                 {id, space_id, task_id, name, size}));
  Artifact a = ReadArtifact(rs.front());
  if (then) {
    CUTTLE_TRY_VOID(then(tx, a));
  }
  return a;
}

}  // namespace

Result<Artifact> ArtifactStore::Store(const std::string& node, const std::string& space_id,
                                      const std::string& task_id, std::string_view bytes,
                                      const std::string& name, const InTx& fence,
                                      const InTx& then) {
  if (!storage::IsPlainFileName(name)) {
    return Fail(Error::InvalidArgument(fmt::format(
        "the artifact name '{}' is not a plain file name: it may not contain '/', '\\', '..' or "
        "control characters",
        name)));
  }
  std::string dir = root_ + "/" + core::ToLower(task_id);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Error::Io(fmt::format("cannot create '{}': {}", dir, ec.message())));
  std::string final_path = dir + "/" + name;
  const std::string hint = TempHint(node);
  CUTTLE_TRY(auto file, storage::AtomicFile::Create(final_path, {.hint = hint}));
  CUTTLE_TRY_VOID(file.Write(bytes));
  CUTTLE_TRY_VOID(file.SyncData());  // the slow part, before the transaction holds the row
  Artifact a;
  auto inserted = db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(a, InsertFenced(tx, space_id, task_id, name, static_cast<int64_t>(bytes.size()),
                               fence, then));
    // Moved into place only once fenced and recorded: a refused upload never replaces the file
    // of an earlier artifact of the same name (an uncommitted temporary is removed).
    return file.Commit();
  });
  if (!inserted) return Fail(inserted.error());
  return a;
}

namespace {
constexpr const char* kUploadsDir = ".uploads";
constexpr std::string_view kPartSuffix = ".part";

// Closes the descriptor (and so releases its flock).
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `path` and takes an exclusive flock, making sure the file locked is still the one at
// `path` (another node may have moved it into place, or removed it, while this one waited).
// -1 when there is no such file and `create` is false.
Result<int> OpenLocked(const std::string& path, bool create) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0 && errno == ENOENT && !create) return -1;
    if (fd < 0) {
      return Fail(Error::Io(fmt::format("cannot open '{}': {}", path, std::strerror(errno))));
    }
    int locked;
    do {
      locked = ::flock(fd, LOCK_EX);
    } while (locked != 0 && errno == EINTR);
    if (locked != 0) {
      int saved = errno;
      ::close(fd);
      return Fail(Error::Io(fmt::format("cannot lock '{}': {}", path, std::strerror(saved))));
    }
    struct stat held {
    }, at{};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &at) == 0 && held.st_ino == at.st_ino &&
        held.st_dev == at.st_dev) {
      return fd;
    }
    ::close(fd);
  }
  return Fail(Error::Unavailable(fmt::format("'{}' keeps changing; try again", path)));
}

Result<void> SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Fail(Error::Io(fmt::format("cannot open '{}': {}", dir, std::strerror(errno))));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Fail(Error::Io(fmt::format("cannot sync '{}'", dir)));
  return {};
}

// Reads `len` bytes at `at`; false on a short read.
bool ReadAt(int fd, uint64_t at, std::string& out, size_t len) {
  out.resize(len);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, out.data() + done, len - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

Result<void> WriteAt(int fd, uint64_t at, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Error::Io(fmt::format("cannot write: {}", std::strerror(errno))));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    return Fail(Error::Io(fmt::format("cannot sync: {}", std::strerror(errno))));
  }
  return {};
}
}  // namespace

uint64_t ArtifactStore::UploadReceived(const std::string& key) {
  struct stat st {};
  std::string path = root_ + "/" + kUploadsDir + "/" + key + std::string(kPartSuffix);
  if (!storage::IsPlainFileName(key) || ::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

void ArtifactStore::DiscardUpload(const std::string& key) {
  if (!storage::IsPlainFileName(key)) return;
  std::string path = root_ + "/" + kUploadsDir + "/" + key + std::string(kPartSuffix);
  ::unlink(path.c_str());
}

std::vector<std::string> ArtifactStore::PartialUploads() {
  namespace fs = std::filesystem;
  std::vector<std::string> keys;
  std::error_code ec;
  for (fs::directory_iterator it(root_ + "/" + kUploadsDir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() > kPartSuffix.size() && name.ends_with(kPartSuffix)) {
      keys.push_back(name.substr(0, name.size() - kPartSuffix.size()));
    }
  }
  return keys;
}

Result<ArtifactStore::PieceAnswer> ArtifactStore::PutPiece(
    const Piece& piece, const std::string& sha256, const std::string& node,
    const std::string& space_id, const std::string& task_id, const std::string& name,
    const InTx& fence, const InTx& then, std::optional<Artifact>& stored) {
  using Kind = PieceAnswer::Kind;
  if (!storage::IsPlainFileName(name)) {
    return Fail(Error::InvalidArgument(fmt::format(
        "the artifact name '{}' is not a plain file name: it may not contain '/', '\\', '..' or "
        "control characters",
        name)));
  }
  if (!storage::IsPlainFileName(piece.key)) {
    return Fail(Error::InvalidArgument(fmt::format("'{}' names no upload", piece.key)));
  }
  if (piece.bytes.empty() || piece.offset + piece.bytes.size() > piece.total) {
    return Fail(Error::InvalidArgument(
        fmt::format("a piece of {} bytes at offset {} is not inside a file of {} bytes",
                    piece.bytes.size(), piece.offset, piece.total)));
  }
  const std::string dir = root_ + "/" + kUploadsDir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Error::Io(fmt::format("cannot create '{}': {}", dir, ec.message())));
  const std::string path = dir + "/" + piece.key + std::string(kPartSuffix);
  CUTTLE_TRY(int opened, OpenLocked(path, piece.offset == 0));
  if (opened < 0) return PieceAnswer{Kind::kGap, 0};
  Fd fd{opened};
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return Fail(Error::Io(fmt::format("cannot stat '{}'", path)));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > piece.total) {
    // Held for another total under the same key: not this upload's; it starts over.
    ::unlink(path.c_str());
    return PieceAnswer{Kind::kGap, 0};
  }
  if (piece.offset > size) return PieceAnswer{Kind::kGap, size};
  const uint64_t end = piece.offset + piece.bytes.size();
  const uint64_t overlap = std::min(size, end) - piece.offset;
  if (overlap > 0) {
    std::string held;
    if (!ReadAt(fd.fd, piece.offset, held, static_cast<size_t>(overlap)) ||
        held != piece.bytes.substr(0, static_cast<size_t>(overlap))) {
      return PieceAnswer{Kind::kGap, size};
    }
  }
  if (end > size) {
    CUTTLE_TRY_VOID(
        WriteAt(fd.fd, size, piece.bytes.substr(static_cast<size_t>(size - piece.offset))));
    size = end;
  }
  if (size < piece.total) return PieceAnswer{Kind::kHeld, size};

  // Whole: verify, then move into place as Store does, in the fenced transaction.
  CUTTLE_TRY(auto digest, crypto::Sha256HexOfFd(fd.fd));
  if (digest != sha256) {
    ::unlink(path.c_str());
    return Fail(Error::InvalidArgument(
        fmt::format("the {} bytes received have the SHA-256 {}, not {}: the upload starts over",
                    size, digest, sha256)));
  }
  const std::string task_dir = root_ + "/" + core::ToLower(task_id);
  std::filesystem::create_directories(task_dir, ec);
  if (ec) return Fail(Error::Io(fmt::format("cannot create '{}': {}", task_dir, ec.message())));
  // A second name, node-named, so a node killed from here to the commit leaves what
  // SweepTemporaries removes. The partial file keeps its name (and this node its lock) until the
  // row is committed: a node waiting for the lock, or one that finds no partial file, then finds
  // the row.
  const std::string temp = task_dir + "/.tmp-" + TempHint(node) + piece.key;
  ::unlink(temp.c_str());
  if (::link(path.c_str(), temp.c_str()) != 0) {
    return Fail(Error::Io(fmt::format("cannot link '{}': {}", path, std::strerror(errno))));
  }
  const std::string final_path = task_dir + "/" + name;
  Artifact a;
  auto inserted = db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(a,
               InsertFenced(tx, space_id, task_id, name, static_cast<int64_t>(size), fence, then));
    if (::fsync(fd.fd) != 0 || ::rename(temp.c_str(), final_path.c_str()) != 0) {
      return Fail(Error::Io(
          fmt::format("cannot move '{}' into place: {}", final_path, std::strerror(errno))));
    }
    return SyncDir(task_dir);
  });
  ::unlink(temp.c_str());  // moved into place already when committed
  // Fenced, another upload of the number won, or the store failed: the partial file goes either
  // way (it may share its inode with a file moved into place, so it is never appended to again).
  ::unlink(path.c_str());
  if (!inserted) return Fail(inserted.error());
  stored = a;
  return PieceAnswer{Kind::kComplete, size};
}

void ArtifactStore::SweepTemporaries(const std::string& node) {
  namespace fs = std::filesystem;
  std::string prefix = ".tmp-" + TempHint(node);
  std::error_code ec;
  std::vector<fs::path> task_dirs, leftovers;
  // increment(ec), not range-for: another node's retention may remove a folder meanwhile.
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) task_dirs.push_back(it->path());
  }
  for (const auto& dir : task_dirs) {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().filename().string().starts_with(prefix)) leftovers.push_back(it->path());
    }
    ec.clear();
  }
  for (const auto& p : leftovers) fs::remove(p, ec);
}

Result<repo::Page<Artifact>> ArtifactStore::List(const std::optional<std::string>& space_id,
                                                 const std::optional<std::string>& regarding,
                                                 const repo::PageQuery& q) {
  repo::Where w;
  if (space_id) w.Add("space_id = {}", *space_id);
  if (regarding) w.Add("LOWER(server_task_id) = LOWER({})", *regarding);
  w.ListFilters(q, "id", "filename");
  return repo::SelectPage<Artifact>(db_, kColumns, "artifacts", w, "created DESC, id DESC", q,
                                    ReadArtifact);
}

Result<std::optional<Artifact>> ArtifactStore::Get(const std::string& id) {
  CUTTLE_TRY(auto rs, db_.Execute(std::string("SELECT ") + kColumns +
                                      " FROM artifacts WHERE LOWER(id) = LOWER($1)",
                                  {id}));
  if (rs.empty()) return std::optional<Artifact>();
  return std::optional<Artifact>(ReadArtifact(rs.front()));
}

Result<bool> ArtifactStore::Delete(const std::string& id) {
  CUTTLE_TRY(auto a, Get(id));
  if (!a) return false;
  CUTTLE_TRY_VOID(db_.Execute("DELETE FROM artifacts WHERE id = $1", {a->id}));
  // Another row may name the same file (a re-collected name); remove the file only if none does.
  CUTTLE_TRY(auto rs, db_.Execute("SELECT COUNT(*) FROM artifacts WHERE server_task_id = $1 AND "
                                  "filename = $2",
                                  {a->server_task_id, a->filename}));
  if (rs.front().GetInt(0) == 0) ::unlink(PathOf(*a).c_str());
  return true;
}

Result<void> ArtifactStore::DeleteForTask(const std::string& task_id) {
  CUTTLE_TRY_VOID(db_.Execute("DELETE FROM artifacts WHERE server_task_id = $1", {task_id}));
  std::error_code ec;
  std::filesystem::remove_all(root_ + "/" + core::ToLower(task_id), ec);
  return {};
}

}  // namespace cuttle::tasks
