// A server task's Octopus JSON shape (TaskResource, reference-octopus-api.md §2.6). Pure;
// thread-safe. `clock` gives a running task's Duration.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "tasks/task_queue.h"

namespace cuttle::model {

nlohmann::json TaskJson(const tasks::Task& t,
                        const core::Clock& clock = core::SystemClock::Instance());
// With the types of the task's pending interruptions (deploy::PendingInterruptionTypes): a task
// with any, or parked waiting for one, HasPendingInterruptions; a parked task (Queued in its row,
// holding no node) is shown Executing, as Octopus shows a deployment waiting for an answer.
nlohmann::json TaskJson(const tasks::Task& t,
                        const std::vector<std::string>& pending_interruption_types,
                        const core::Clock& clock = core::SystemClock::Instance());
// The state the API shows: Executing for a parked task, else the row's.
tasks::TaskState ShownState(const tasks::Task& t);
// An optional time as Octopus writes it: ISO 8601, or null.
nlohmann::json IsoOrNullJson(const std::optional<int64_t>& ms);

}  // namespace cuttle::model
