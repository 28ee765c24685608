// The deployment orchestrator (issue 11; docs/engine.md): runs a Deploy or RunbookRun task with
// the engine's parts, keeping its progress durable in deployment_units so that another node can
// adopt it.
//
//   LoadDeployment   stored documents → DeploymentInput (frozen process and variables, the
//                    deployment's choices, the space's machines, the system-variable facts)
//   RunDeployment    plans it (engine::PlanDeployment) and walks the plan: groups in order, the
//                    steps of a group in parallel, each step's targets through its sliding
//                    window, each target's actions in order; conditions, output variables,
//                    guided failure, manual interventions (the task parks: it holds no thread),
//                    cancellation, and adoption of the units an older claim left.
//
// Every unit's row is written before it starts and when it ends, fenced on the task's lease
// (units.h, WriteUnit). Thread-safe: RunDeployment may run for several tasks at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "crypto/secret_box.h"
#include "db/database.h"
#include "deploy/target.h"
#include "engine/plan.h"
#include "engine/variable_resolution.h"
#include "feed/package_store.h"
#include "tasks/task_kinds.h"

namespace cuttle::deploy {

// What a deployment (or runbook run) is, read from its stored documents.
struct DeploymentInput {
  std::string space_id;
  std::string what;         // "release 1.0.0", "runbook snapshot Snapshot 3" (for messages)
  std::string document_id;  // Deployments-N or RunbookRuns-N (RelatedDocumentIds)
  nlohmann::json process;   // the frozen process's Steps
  engine::FrozenVariables variables;  // opened, form values applied
  engine::DeploymentRequest request;
  std::vector<engine::CandidateMachine> machines;
  engine::DeploymentFacts facts;    // without the plan's facts (RunDeployment adds them)
  bool use_guided_failure = false;  // the deployment's UseGuidedFailure
};

// Reads the task's deployment (argument DeploymentId) or runbook run (RunbookRunId). Sensitive
// variables are opened with `secrets`. Errors name what is missing or wrong (a prompted variable
// without its value, a frozen process that no longer exists).
Result<DeploymentInput> LoadDeployment(db::Database& db, const crypto::SecretBox& secrets,
                                       const tasks::Task& task);

struct OrchestratorOptions {
  db::Database* db = nullptr;                  // required
  const crypto::SecretBox* secrets = nullptr;  // required: seals sensitive outputs
  feed::PackageStore* packages = nullptr;      // the built-in feed (package steps)
  std::string tasklogs_dir;                    // the units' log files go beside the task's
  // The built-in worker's application root and journal (Applications/, DeploymentJournal.json),
  // kept between deployments: "<tasks.work_dir>/worker".
  std::string worker_home;
  std::chrono::milliseconds script_timeout{3'600'000};
  // Steps of one group running at once.
  size_t max_parallel_steps = engine::kDefaultMaxParallelism;
  // Agent targets (TentacleActive machines, AgentTarget): how often a unit re-reads its command
  // besides the notifications, how long it waits for the agent's result after asking it to
  // cancel, and when a command nobody claimed expires (database time since its creation).
  std::chrono::milliseconds agent_poll{1000};
  std::chrono::milliseconds agent_cancel_wait{30'000};
  int64_t agent_claim_timeout_ms = 60'000;
  // Makes the Target that runs a unit on `target` (nullptr: the built-in worker itself). Empty:
  // BuiltInWorker for the built-in worker and None targets, AgentTarget for TentacleActive ones;
  // other targets fail.
  std::function<std::unique_ptr<Target>(tasks::TaskExecution&, const engine::PlannedTarget*)>
      make_target;
};

// Runs the deployment to its end, or until it parks on an interruption (HandedOff: the task is
// Queued and parked, holding no thread), is cancelled (Canceled) or lost (HandedOff).
tasks::TaskOutcome RunDeployment(tasks::TaskExecution& execution, const DeploymentInput& input,
                                 const OrchestratorOptions& options);

// Registers the Deploy and RunbookRun kinds (resumable: idempotent, so the dead-node policy
// queues them again and the next owner adopts their units). `options` must stay valid (its
// pointers) for the registry's life.
Result<void> RegisterDeploymentKinds(tasks::TaskKinds& kinds, OrchestratorOptions options);

}  // namespace cuttle::deploy
