#include "tasks/artifacts.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/strings.h"
#include "repo/repo.h"
#include "storage/storage.h"

namespace cuttle::tasks {

namespace {
Artifact ReadArtifact(const db::Row& r) {
  return Artifact{r.GetString("id"),       r.GetString("space_id"), r.GetString("server_task_id"),
                  r.GetString("filename"), r.GetInt("size"),        r.GetInt("created")};
}
constexpr const char* kColumns = "id, space_id, server_task_id, filename, size, created";

// Streams `from` into a temporary file in `dir`, fsyncs it and renames it to `to`.
Result<int64_t> CopyAtomic(const std::string& from, const std::string& dir, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return Fail(Error::InvalidArgument(
        fmt::format("cannot read artifact source '{}': {}", from, std::strerror(errno))));
  }
  std::string tmp = storage::TempPath(dir, "artifact");
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return Fail(Error::Io(fmt::format("cannot create '{}': {}", tmp, std::strerror(errno))));
  }
  int64_t total = 0;
  char buf[256 * 1024];
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok = false;
        break;
      }
      done += w;
    }
    if (!ok) break;
    total += n;
  }
  ok = ok && ::fsync(out) == 0;
  ::close(in);
  ::close(out);
  if (!ok || ::rename(tmp.c_str(), to.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    return Fail(Error::Io(fmt::format("cannot store artifact '{}': {}", to, std::strerror(saved))));
  }
  return total;
}
}  // namespace

std::string ArtifactStore::PathOf(const Artifact& a) const {
  return root_ + "/" + core::ToLower(a.server_task_id) + "/" + a.filename;
}

Result<Artifact> ArtifactStore::Collect(const Lease& lease, const std::string& space_id,
                                        const std::string& source_path, const std::string& name) {
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
  CUTTLE_TRY(auto size, CopyAtomic(source_path, dir, final_path));
  Artifact a;
  auto inserted = db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(a.id, repo::NextId(tx, "Artifacts"));
    CUTTLE_TRY(
        auto rs,
        tx.Execute(std::string("INSERT INTO artifacts (id, space_id, server_task_id, "
                               "filename, size, created) SELECT $1, $2, $3, $4, $5, now_ms() "
                               "WHERE EXISTS (SELECT 1 FROM server_tasks WHERE id = $3 AND "
                               "server_node = $6 AND claim_epoch = $7 AND state IN "
                               "('Executing', 'Cancelling')) RETURNING ") +
                       kColumns,
                   {a.id, space_id, lease.task_id, name, size, lease.node, lease.epoch}));
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

Result<std::vector<Artifact>> ArtifactStore::List(const std::optional<std::string>& space_id,
                                                  const std::optional<std::string>& regarding) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM artifacts WHERE 1 = 1";
  db::Params params;
  if (space_id) {
    params.emplace_back(*space_id);
    sql += " AND space_id = $" + std::to_string(params.size());
  }
  if (regarding) {
    params.emplace_back(*regarding);
    sql += " AND LOWER(server_task_id) = LOWER($" + std::to_string(params.size()) + ")";
  }
  CUTTLE_TRY(auto rs, db_.Execute(sql + " ORDER BY created DESC, id DESC", params));
  std::vector<Artifact> out;
  for (const auto& r : rs.rows) out.push_back(ReadArtifact(r));
  return out;
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
