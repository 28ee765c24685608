// Artifacts: files collected from a task and kept under the artifacts root
// ("<root>/<task id lower-cased>/<file name>"), with a row each in the database. Collection is a
// fenced write: only the node executing the task may add to it. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
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

class ArtifactStore {
 public:
  ArtifactStore(db::Database& db, std::string root) : db_(db), root_(std::move(root)) {}

  // Copies `source_path` into the task's artifact directory as `name` (a plain file name: a name
  // that would leave the directory is kInvalidArgument) and records it, if `lease` still holds.
  Result<Artifact> Collect(const Lease& lease, const std::string& space_id,
                           const std::string& source_path, const std::string& name);

  Result<std::vector<Artifact>> List(const std::optional<std::string>& space_id,
                                     const std::optional<std::string>& regarding);
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
