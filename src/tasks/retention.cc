#include "tasks/retention.h"

#include <unistd.h>

#include <filesystem>

#include "tasks/task_log.h"

namespace cuttle::tasks {

Result<int> ApplyRetention(db::Database& db, ArtifactStore& artifacts,
                           const std::string& tasklogs_dir, int days) {
  if (days <= 0) return 0;
  CUTTLE_TRY(int64_t now, db.NowMillis());
  int64_t cutoff = now - int64_t{days} * 86'400'000;
  TaskQueue queue(db);
  int purged = 0;
  for (;;) {
    CUTTLE_TRY(auto batch, queue.FinishedBefore(cutoff, 200));
    if (batch.empty()) break;
    for (const auto& t : batch) {
      CUTTLE_TRY_VOID(artifacts.DeleteForTask(t.id));
      ::unlink(TaskLogPath(tasklogs_dir, t.id).c_str());
      std::error_code ignored;  // a deployment's per-unit logs, if it had any
      std::filesystem::remove_all(TaskUnitLogDir(tasklogs_dir, t.id), ignored);
      CUTTLE_TRY_VOID(queue.MarkLogsPurged(t.id));
      ++purged;
    }
  }
  return purged;
}

}  // namespace cuttle::tasks
