// Artifacts: files collected from a task and kept under the artifacts root
// ("<root>/<task id lower-cased>/<file name>"), with a row each in the database. Collection is a
// fenced write: only the node executing the task may add to it. ArtifactStore is thread-safe;
// an ArtifactSource is a value owned by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"
#include "tasks/task_queue.h"

namespace cuttle::tasks {

struct Artifact {
  std::string id;  // Artifacts-N
  std::string space_id;
  std::string server_task_id;
  std::string filename;
  int64_t size = 0;
  int64_t created = 0;
};

// A file a script asked to collect (createArtifact), open for reading. Only a regular file
// inside the task's working folder is accepted, no larger than the node's limit and exactly as
// long as the script declared: not a device (/dev/zero), a FIFO, or a file elsewhere reached by
// path or symlink (the master key, /etc/shadow). The path is resolved first, the resolved file
// opened without following a symlink, and the open file checked again, so a swap between the
// check and the open is caught.
class ArtifactSource {
 public:
  // `path` as the script gave it: absolute, or relative to `work_dir`. `declared_length` is the
  // createArtifact message's `length`, if any. Refusals are kInvalidArgument (kTooLarge above
  // `max_bytes`) and name the file as the script gave it, or by its path inside the working
  // folder, never by the folder's own path.
  static Result<ArtifactSource> Open(const std::string& work_dir, const std::string& path,
                                     std::optional<int64_t> declared_length, int64_t max_bytes);

  ArtifactSource(ArtifactSource&& other) noexcept;
  ArtifactSource& operator=(ArtifactSource&& other) noexcept;
  ArtifactSource(const ArtifactSource&) = delete;
  ArtifactSource& operator=(const ArtifactSource&) = delete;
  ~ArtifactSource();

  int fd() const { return fd_; }
  int64_t size() const { return size_; }

 private:
  ArtifactSource(int fd, int64_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  int64_t size_ = 0;
};

// Asked between the chunks of a copy; a non-empty answer (why) stops it.
using StopCheck = std::function<std::string()>;

class ArtifactStore {
 public:
  ArtifactStore(db::Database& db, std::string root) : db_(db), root_(std::move(root)) {}

  // Copies `source` into the task's artifact directory as `name` (a plain file name: a name
  // that would leave the directory is kInvalidArgument) and records it, if `lease` still holds.
  // The copy reads exactly source.size() bytes (a file that grew or shrank meanwhile is refused)
  // and stops with kConflict as soon as `should_stop` answers. Nothing is left behind by a copy
  // that does not finish: no temporary file, no row.
  Result<Artifact> Collect(const Lease& lease, const std::string& space_id, ArtifactSource& source,
                           const std::string& name, const StopCheck& should_stop);

  // Writes `bytes` as `name` into the task's artifact directory and records it, for a file that
  // arrived whole from elsewhere (an agent's upload). The row is inserted in a transaction that
  // runs `fence` first and `then` after the insert, and the file is moved into place only then:
  // either one failing rolls the row back and leaves no file (the fence is the writer's, as the
  // lease is Collect's). `node` names the temporary file, as Collect's lease does, so that
  // SweepTemporaries(node) removes what a killed node left.
  using InTx = std::function<Result<void>(db::Transaction&, const Artifact&)>;
  Result<Artifact> Store(const std::string& node, const std::string& space_id,
                         const std::string& task_id, std::string_view bytes,
                         const std::string& name, const InTx& fence, const InTx& then);

  // ---- uploads in pieces (docs/agent.md, "Uploads in pieces") ----------------------------------
  // A partial upload is `<root>/.uploads/<key>.part`, shared by every node: its length is what has
  // been received. Each call locks the file (flock) for its whole work, so two nodes never
  // interleave. `key` is a plain file name (the caller's: command, number and SHA-256).
  struct Piece {
    std::string key;
    uint64_t offset = 0;
    uint64_t total = 0;  // the whole file's size
    std::string_view bytes;
  };
  struct PieceAnswer {
    enum class Kind {
      kHeld,      // appended, or the same bytes again: `received` bytes are held
      kGap,       // the offset is past what is held, or differs from it: nothing written
      kComplete,  // the file is whole; StoreUpload next (under the same lock)
    };
    Kind kind = Kind::kHeld;
    uint64_t received = 0;
  };
  // The bytes held for `key` (0 when none).
  uint64_t UploadReceived(const std::string& key);
  // Removes `key`'s partial file (a fenced upload, a bad hash).
  void DiscardUpload(const std::string& key);
  // Appends `piece` and, when that completes the file, verifies its SHA-256 (kInvalidArgument
  // and the partial file removed on a mismatch) and stores it as Store does (the same fenced
  // transaction; the partial file is moved into place, never read into memory): `stored` is then
  // set. A fence that fails (or any failure of that last step) removes the partial file.
  Result<PieceAnswer> PutPiece(const Piece& piece, const std::string& sha256,
                               const std::string& node, const std::string& space_id,
                               const std::string& task_id, const std::string& name,
                               const InTx& fence, const InTx& then,
                               std::optional<Artifact>& stored);
  // The keys of the partial uploads in the store.
  std::vector<std::string> PartialUploads();

  // Removes the temporary files of copies `node` had in progress when it was killed (their names
  // carry the node's name, so a cluster's other nodes' copies are left alone). Best effort.
  void SweepTemporaries(const std::string& node);

  // Newest first, paged in SQL; `regarding` is a task id (case-insensitive), and the common list
  // filters apply to id and file name.
  Result<repo::Page<Artifact>> List(const std::optional<std::string>& space_id,
                                    const std::optional<std::string>& regarding,
                                    const repo::PageQuery& q = {});
  Result<std::optional<Artifact>> Get(const std::string& id);
  // Removes the row and the file. Returns false if there was no such artifact.
  Result<bool> Delete(const std::string& id);
  // Removes every artifact of a task (retention).
  Result<void> DeleteForTask(const std::string& task_id);

  std::string PathOf(const Artifact& a) const;

 private:
  db::Database& db_;
  std::string root_;
};

}  // namespace cuttle::tasks
