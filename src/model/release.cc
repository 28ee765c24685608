#include "model/release.h"

#include <cstdio>

#include "core/json.h"
#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

namespace {

json Iso(const std::optional<int64_t>& ms) {
  return ms ? json(core::FormatIso8601(*ms)) : json(nullptr);
}

// A field of the stored document, or `fallback` when it is missing.
json Field(const json& doc, const char* name, json fallback) {
  auto it = doc.find(name);
  return it == doc.end() ? std::move(fallback) : *it;
}

void AppendField(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  core::AppendJsonString(out, value);
}

void AppendRaw(std::string& out, const char* name, std::string_view raw) {
  out += ",\"";
  out += name;
  out += "\":";
  out += raw;
}

void AppendTime(std::string& out, const char* name, const std::optional<int64_t>& ms) {
  out += ",\"";
  out += name;
  out += "\":";
  if (ms) {
    out += '"';
    core::AppendIso8601(out, *ms);
    out += '"';
  } else {
    out += "null";
  }
}

}  // namespace

void AppendDashboardItemJson(std::string& out, const repo::DashboardItemRef& i, bool current) {
  const bool completed =
      i.state == "Success" || i.state == "Failed" || i.state == "Canceled" || i.state == "TimedOut";
  out += "{\"ProjectId\":";
  core::AppendJsonString(out, i.project_id);
  AppendField(out, "EnvironmentId", i.environment_id);
  AppendField(out, "ReleaseId", i.release_id);
  AppendField(out, "DeploymentId", i.deployment_id);
  AppendField(out, "TaskId", i.task_id);
  AppendRaw(out, "TenantId", "null");
  AppendField(out, "ChannelId", i.channel_id);
  AppendField(out, "ReleaseVersion", i.release_version);
  AppendTime(out, "Created", i.created);
  AppendTime(out, "QueueTime", i.queue_time);
  AppendTime(out, "StartTime", i.start_time);
  AppendTime(out, "CompletedTime", i.completed_time);
  AppendField(out, "State", i.state);
  AppendRaw(out, "HasPendingInterruptions", i.has_pending_interruptions ? "true" : "false");
  AppendRaw(out, "HasWarningsOrErrors", i.has_warnings_or_errors ? "true" : "false");
  AppendField(out, "ErrorMessage", i.error_message);
  if (i.start_time && i.completed_time) {
    AppendField(out, "Duration", core::FormatDuration(*i.completed_time - *i.start_time));
  } else {
    AppendRaw(out, "Duration", "null");
  }
  AppendRaw(out, "IsCurrent", current ? "true" : "false");
  AppendRaw(out, "IsPrevious", current ? "false" : "true");
  AppendRaw(out, "IsCompleted", completed ? "true" : "false");
  out += '}';
}

json ReleaseJson(const repo::ReleaseRow& r) {
  const std::string base = "/api/" + r.space_id;
  const std::string self = base + "/releases/" + r.id;
  json out = r.json;
  out["Id"] = r.id;
  out["SpaceId"] = r.space_id;
  out["ProjectId"] = r.project_id;
  out["ChannelId"] = r.channel_id;
  out["Version"] = r.version;
  out["Assembled"] = core::FormatIso8601(r.assembled);
  out["ReleaseNotes"] = Field(r.json, "ReleaseNotes", nullptr);
  out["IgnoreChannelRules"] = false;
  out["LibraryVariableSetSnapshotIds"] =
      Field(r.json, "LibraryVariableSetSnapshotIds", json::array());
  out["SelectedPackages"] = Field(r.json, "SelectedPackages", json::array());
  out["SelectedGitResources"] = Field(r.json, "SelectedGitResources", json::array());
  out["BuildInformation"] = Field(r.json, "BuildInformation", json::array());
  out["CustomFields"] = Field(r.json, "CustomFields", json::object());
  out["VersionControlReference"] = Field(r.json, "VersionControlReference", nullptr);
  out["Links"] = {
      {"Self", self},
      {"Project", base + "/projects/" + r.project_id},
      {"Channel", base + "/channels/" + r.channel_id},
      {"Deployments", self + "/deployments{?skip,take}"},
      {"DeploymentTemplate", self + "/deployments/template"},
      {"Progression", self + "/progression"},
      {"SnapshotVariables", self + "/snapshot-variables"},
      {"ProjectDeploymentProcessSnapshot",
       base + "/deploymentprocesses/" + out.value("ProjectDeploymentProcessSnapshotId", "")},
      {"ProjectVariableSnapshot",
       base + "/variables/" + out.value("ProjectVariableSetSnapshotId", "")},
      {"Web", "/app#/" + r.space_id + "/releases/" + r.id}};
  return out;
}

json DeploymentJson(const repo::DeploymentRow& d) {
  const std::string base = "/api/" + d.space_id;
  json out = d.json;
  out["Id"] = d.id;
  out["SpaceId"] = d.space_id;
  out["ProjectId"] = d.project_id;
  out["EnvironmentId"] = d.environment_id;
  out["ReleaseId"] = d.release_id;
  out["ChannelId"] = d.channel_id;
  out["TaskId"] = d.task_id;
  out["TenantId"] = nullptr;
  out["Created"] = core::FormatIso8601(d.created);
  for (const char* list : {"SkipActions", "SpecificMachineIds", "ExcludedMachineIds", "Changes",
                           "DeployedToMachineIds"}) {
    if (!out.contains(list)) out[list] = json::array();
  }
  if (!out.contains("FormValues")) out["FormValues"] = json::object();
  out["Links"] = {{"Self", base + "/deployments/" + d.id},
                  {"Release", base + "/releases/" + d.release_id},
                  {"Environment", base + "/environments/" + d.environment_id},
                  {"Project", base + "/projects/" + d.project_id},
                  {"Task", "/api/tasks/" + d.task_id},
                  {"Web", "/app#/" + d.space_id + "/deployments/" + d.id}};
  return out;
}

json DashboardItemJson(const repo::DashboardItem& i, bool current) {
  const bool completed =
      i.state == "Success" || i.state == "Failed" || i.state == "Canceled" || i.state == "TimedOut";
  json duration = nullptr;
  if (i.start_time && i.completed_time) {
    duration = core::FormatDuration(*i.completed_time - *i.start_time);
  }
  return {{"ProjectId", i.project_id},
          {"EnvironmentId", i.environment_id},
          {"ReleaseId", i.release_id},
          {"DeploymentId", i.deployment_id},
          {"TaskId", i.task_id},
          {"TenantId", nullptr},
          {"ChannelId", i.channel_id},
          {"ReleaseVersion", i.release_version},
          {"Created", core::FormatIso8601(i.created)},
          {"QueueTime", core::FormatIso8601(i.queue_time)},
          {"StartTime", Iso(i.start_time)},
          {"CompletedTime", Iso(i.completed_time)},
          {"State", i.state},
          {"HasPendingInterruptions", i.has_pending_interruptions},
          {"HasWarningsOrErrors", i.has_warnings_or_errors},
          {"ErrorMessage", i.error_message},
          {"Duration", duration},
          {"IsCurrent", current},
          {"IsPrevious", !current},
          {"IsCompleted", completed}};
}

}  // namespace cuttle::model
