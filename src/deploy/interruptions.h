// Interruptions: manual interventions and guided-failure prompts (reference-octopus-deployment-
// model.md §2.15, §3.5, §3.6; docs/engine.md, "What is persisted").
//
// The task's owner raises one and parks the task in one transaction (RaiseAndPark): the
// deployment then holds no worker and no thread. Anyone may take responsibility for a pending one
// and submit the answer through any node (Submit), which un-parks the task; the node that claims
// it next resumes the deployment and reads the answer (ForUnit).
//
// Thread-safe (stateless over the Database).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"
#include "tasks/task_queue.h"

namespace cuttle::deploy {

enum class InterruptionType { kManualIntervention, kGuidedFailure };
const char* InterruptionTypeName(InterruptionType type);  // "ManualIntervention", "GuidedFailure"

struct Interruption {
  std::string id;  // Interruptions-N
  int64_t seq = 0;
  std::string space_id;
  std::string task_id;
  std::string unit_key;  // the unit it is about (its CorrelationId)
  int64_t attempt = 1;   // of that unit
  InterruptionType type = InterruptionType::kManualIntervention;
  std::string title;
  // What the raiser recorded: Instructions, ResponsibleTeamIds, RelatedDocumentIds, CanIgnore
  // (guided failure on a step that may be ignored or excluded), the step and machine names.
  nlohmann::json details = nlohmann::json::object();
  bool is_pending = true;
  std::string responsible_user_id;
  int64_t created = 0;  // Unix ms (database clock)
  std::string submitted_by;
  std::optional<int64_t> submitted;
  // The submitted form values ({"Result": "Proceed", "Notes": ...} or {"Guidance": "Retry"}).
  nlohmann::json result = nlohmann::json::object();
};

struct NewInterruption {
  std::string space_id;
  std::string task_id;
  std::string unit_key;
  int64_t attempt = 1;
  InterruptionType type = InterruptionType::kManualIntervention;
  std::string title;
  nlohmann::json details = nlohmann::json::object();
  // The parking claim's log holds a warning or an error (the failed step of a guided failure):
  // recorded on the task as it parks (the runner records nothing for a task handed off).
  bool has_warnings_or_errors = false;
};

// Raises the interruption (or finds the one already raised for the same task, unit, attempt and
// type: an adopting node parks again without a second prompt) and parks the task, in one
// transaction fenced on `lease`, OR-ing `has_warnings_or_errors` into the task's flag.
// kLostOwnership when the lease no longer holds or the task is being cancelled: nothing is
// written.
Result<Interruption> RaiseAndPark(db::Database& db, const tasks::Lease& lease,
                                  const NewInterruption& interruption);

// The interruption raised for a unit's attempt, answered or not; nullopt if none.
Result<std::optional<Interruption>> ForUnit(db::Database& db, const std::string& task_id,
                                            const std::string& unit_key, int64_t attempt,
                                            InterruptionType type);

Result<std::optional<Interruption>> GetInterruption(db::Database& db, const std::string& id);

struct InterruptionFilter {
  std::optional<std::string> space_id;
  std::vector<std::string> task_ids;  // `regarding`, already mapped to task ids; empty: any
  bool pending_only = false;
  repo::PageQuery page;  // ids, skip, take (partialName matches the title)
};
// Newest first.
Result<repo::Page<Interruption>> ListInterruptions(db::Database& db, const InterruptionFilter& f);

// Makes `user_id` responsible for a pending interruption. kConflict if it is no longer pending.
// Taking it from another user is allowed (Octopus lets any permitted user take it over).
Result<Interruption> TakeResponsibility(db::Database& db, const std::string& id,
                                        const std::string& user_id);

// Answers a pending interruption with `values` (a form-values object; names match
// case-insensitively) and un-parks its task. The answer must be, for a manual intervention,
// Result = Proceed | Abort; for guided failure, Guidance = Fail | Retry | Ignore | Exclude, Ignore
// and Exclude only when details.CanIgnore. kInvalidArgument names what is wrong; kConflict if it
// was already answered, or another user holds responsibility. The submitter becomes responsible
// if nobody was. Notes, if given, are kept.
Result<Interruption> SubmitInterruption(db::Database& db, tasks::TaskQueue& queue,
                                        const std::string& id, const std::string& user_id,
                                        const nlohmann::json& values);
// The same, running `also` in the answer's transaction once the answer is written (the API's
// audit event); an error from it rolls the answer back.
using SubmitHook = std::function<Result<void>(db::Transaction&, const Interruption&)>;
Result<Interruption> SubmitInterruption(db::Database& db, tasks::TaskQueue& queue,
                                        const std::string& id, const std::string& user_id,
                                        const nlohmann::json& values, const SubmitHook& also);

// Closes every pending interruption of a task that will not resume (it was cancelled): they are
// no longer pending and carry no answer, so a late submit is refused with kConflict. Returns how
// many were closed.
Result<int64_t> ClosePendingInterruptions(db::Database& db, const std::string& task_id);

// The types ("ManualIntervention", "GuidedFailure") of the pending interruptions of each of
// `task_ids`, each type once, in the order raised; a task with none is absent from the answer.
// For TaskJson's HasPendingInterruptions and PendingInterruptionTypes, one query for a page.
Result<std::map<std::string, std::vector<std::string>>> PendingInterruptionTypes(
    db::Database& db, const std::vector<std::string>& task_ids);

// The normalised answer of a submitted interruption: "Proceed", "Abort", "Fail", "Retry",
// "Ignore" or "Exclude"; "" while pending.
std::string Answer(const Interruption& interruption);

}  // namespace cuttle::deploy
