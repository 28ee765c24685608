// Retention of finished tasks' logs and artifacts (a cluster job; see cluster::Scheduler).
#pragma once

#include <string>

#include "core/error.h"
#include "db/database.h"
#include "tasks/artifacts.h"
#include "tasks/task_queue.h"

namespace cuttle::tasks {

// Deletes the task logs and artifacts of tasks that finished more than `days` ago (by the
// database clock) and marks them purged; the task rows stay. `days` = 0 keeps everything.
// Returns how many tasks were purged.
Result<int> ApplyRetention(db::Database& db, ArtifactStore& artifacts,
                           const std::string& tasklogs_dir, int days);

}  // namespace cuttle::tasks
