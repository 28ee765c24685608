#include "model/runbook.h"

#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

json RunbookJson(const repo::RunbookRow& r) {
  const std::string base = "/api/" + r.space_id;
  json out = r.json;
  out["Id"] = r.id;
  out["SpaceId"] = r.space_id;
  out["ProjectId"] = r.project_id;
  out["Name"] = r.name;
  out["RunbookProcessId"] = r.process_id;
  out["PublishedRunbookSnapshotId"] =
      r.published_snapshot_id ? json(*r.published_snapshot_id) : json(nullptr);
  for (const auto& [key, fallback] : std::initializer_list<std::pair<const char*, json>>{
           {"Description", ""},
           {"EnvironmentScope", "All"},
           {"Environments", json::array()},
           {"MultiTenancyMode", "Untenanted"},
           {"DefaultGuidedFailureMode", "EnvironmentDefault"}}) {
    if (!out.contains(key)) out[key] = fallback;
  }
  out["Links"] = {{"Self", base + "/runbooks/" + r.id},
                  {"Project", base + "/projects/" + r.project_id},
                  {"RunbookProcess", base + "/runbookProcesses/" + r.process_id},
                  {"RunbookSnapshots", base + "/runbooks/" + r.id + "/runbookSnapshots"}};
  return out;
}

json RunbookSnapshotJson(const repo::RunbookSnapshotRow& s) {
  json out = s.json;
  out.erase("AssembledMs");
  out["Id"] = s.id;
  out["SpaceId"] = s.space_id;
  out["ProjectId"] = s.project_id;
  out["RunbookId"] = s.runbook_id;
  out["Name"] = s.name;
  out["Assembled"] = core::FormatIso8601(s.assembled);
  out["Links"] = {{"Self", "/api/" + s.space_id + "/runbookSnapshots/" + s.id},
                  {"FrozenRunbookProcess", "/api/" + s.space_id + "/runbookProcesses/" +
                                               s.json.value("FrozenRunbookProcessId", "")}};
  return out;
}

json RunbookRunJson(const repo::RunbookRunRow& r) {
  json out = r.json;
  out["Id"] = r.id;
  out["SpaceId"] = r.space_id;
  out["ProjectId"] = r.project_id;
  out["RunbookId"] = r.runbook_id;
  out["RunbookSnapshotId"] = r.snapshot_id;
  out["EnvironmentId"] = r.environment_id;
  out["TaskId"] = r.task_id;
  out["TenantId"] = nullptr;
  out["Created"] = core::FormatIso8601(r.created);
  out["Links"] = {{"Self", "/api/" + r.space_id + "/runbookRuns/" + r.id},
                  {"Task", "/api/tasks/" + r.task_id}};
  return out;
}

}  // namespace cuttle::model
