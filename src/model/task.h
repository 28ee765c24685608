// A server task's Octopus JSON shape (TaskResource, reference-octopus-api.md §2.6). Pure;
// thread-safe. `clock` gives a running task's Duration.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/clock.h"
#include "tasks/task_queue.h"

namespace cuttle::model {

nlohmann::json TaskJson(const tasks::Task& t,
                        const core::Clock& clock = core::SystemClock::Instance());
// An optional time as Octopus writes it: ISO 8601, or null.
nlohmann::json IsoOrNullJson(const std::optional<int64_t>& ms);

}  // namespace cuttle::model
