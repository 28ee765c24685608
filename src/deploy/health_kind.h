// The Health task kind (Octopus's POST /api/tasks {"Name": "Health", "Arguments": {EnvironmentId?,
// MachineIds?}}): checks the enabled deployment targets of the task's space, or of one environment,
// or the listed ones. A TentacleActive target gets a `health` command (docs/agent.md) and becomes
// Healthy when its agent answers that the check passed, Unhealthy when the check failed, and
// Unavailable when the agent does not answer within the bound; a None target (steps run on the
// built-in worker) is Healthy at once. Each target's HealthStatus and StatusSummary are written,
// one log line per target; the task fails only when a target is Unhealthy.
//
// Resumable (idempotent): its commands are keyed by (task, "health/<machine id>", 1), so a node
// that adopts it follows the commands its predecessor created.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/error.h"
#include "crypto/secret_box.h"
#include "db/database.h"
#include "tasks/task_kinds.h"

namespace cuttle::deploy {

struct HealthOptions {
  db::Database* db = nullptr;                  // required
  const crypto::SecretBox* secrets = nullptr;  // required
  std::chrono::milliseconds poll{1000};        // re-read of the commands besides notifications
  // An agent whose command has not ended by then (database time since its creation) is
  // Unavailable; a command not yet claimed expires, a running one is asked to cancel.
  int64_t answer_timeout_ms = 60'000;
};

// Runs one Health task (RegisterHealthKind's run function).
tasks::TaskOutcome RunHealthCheck(tasks::TaskExecution& execution, const HealthOptions& options);

// Registers "Health" (creatable through POST /api/tasks). `options` pointers must outlive the
// registry.
Result<void> RegisterHealthKind(tasks::TaskKinds& kinds, HealthOptions options);

}  // namespace cuttle::deploy
