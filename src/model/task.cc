#include "model/task.h"

#include <string>

#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

namespace {
std::optional<std::string> IsoOrNull(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return core::FormatIso8601(*ms);
}

}  // namespace

json IsoOrNullJson(const std::optional<int64_t>& ms) {
  auto s = IsoOrNull(ms);
  return s ? json(*s) : json(nullptr);
}

tasks::TaskState ShownState(const tasks::Task& t) {
  return t.parked && t.state == tasks::TaskState::kQueued ? tasks::TaskState::kExecuting : t.state;
}

json TaskJson(const tasks::Task& t, const core::Clock& clock) { return TaskJson(t, {}, clock); }

json TaskJson(const tasks::Task& t, const std::vector<std::string>& pending_interruption_types,
              const core::Clock& clock) {
  bool completed = tasks::IsFinal(t.state);
  const tasks::TaskState shown = ShownState(t);
  const bool pending = !completed && (t.parked || !pending_interruption_types.empty());
  json duration = nullptr;
  if (t.start_time) {
    int64_t end = t.completed_time.value_or(core::ToUnixMillis(clock.Now()));
    duration = core::FormatDuration(end - *t.start_time);
  }
  std::string self = "/api/tasks/" + t.id;
  return {
      {"Id", t.id},
      {"SpaceId", t.space_id.empty() ? json(nullptr) : json(t.space_id)},
      {"Name", t.name},
      {"Description", t.description},
      {"Arguments", t.arguments},
      {"State", tasks::StateName(shown)},
      {"Completed", completed ? IsoOrNullJson(t.completed_time) : json(nullptr)},
      {"QueueTime", core::FormatIso8601(t.queue_time)},
      {"QueueTimeExpiry", IsoOrNullJson(t.queue_time_expiry)},
      {"StartTime", IsoOrNullJson(t.start_time)},
      {"LastUpdatedTime", IsoOrNullJson(t.last_updated_time)},
      {"CompletedTime", IsoOrNullJson(t.completed_time)},
      {"Duration", duration},
      {"ErrorMessage", t.error_message},
      {"ServerNode", t.server_node.empty() ? json(nullptr) : json(t.server_node)},
      {"HasBeenPickedUpByProcessor", t.start_time.has_value() || completed || t.parked},
      {"IsCompleted", completed},
      {"FinishedSuccessfully", t.state == tasks::TaskState::kSuccess},
      {"HasPendingInterruptions", pending},
      {"PendingInterruptionTypes", completed ? json::array() : json(pending_interruption_types)},
      {"HasPendingPreconditions", false},
      {"HasWarningsOrErrors", t.has_warnings_or_errors},
      {"CanRerun", completed},
      {"Links",
       {{"Self", self},
        {"Web", "/app#/" + t.space_id + "/tasks/" + t.id},
        {"Raw", self + "/raw"},
        {"Details", self + "/details{?verbose,tail,ranges}"},
        {"Artifacts", "/api/" + t.space_id + "/artifacts?regarding=" + t.id},
        {"Cancel", self + "/cancel"},
        {"Rerun", self + "/rerun"}}}};
}

}  // namespace cuttle::model
