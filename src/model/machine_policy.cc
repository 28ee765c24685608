#include "model/machine_policy.h"

#include "model/document.h"

namespace cuttle::model {

nlohmann::json MachinePolicyJson(const repo::MachinePolicyRow& p) {
  using nlohmann::json;
  json doc = {
      {"Id", p.id},
      {"SpaceId", p.space_id},
      {"Name", p.name},
      {"Description", ""},
      {"IsDefault", p.is_default},
      {"ConnectionConnectTimeout", "00:01:00"},
      {"ConnectionRetryCountLimit", 5},
      {"ConnectionRetrySleepInterval", "00:00:01"},
      {"ConnectionRetryTimeLimit", "00:05:00"},
      {"PollingRequestQueueTimeout", "00:02:00"},
      {"MachineCleanupPolicy",
       {{"DeleteMachinesBehavior", "DoNotDelete"},
        {"DeleteMachinesElapsedTimeSpan", "1.00:00:00"}}},
      {"MachineConnectivityPolicy", {{"MachineConnectivityBehavior", "ExpectedToBeOnline"}}},
      {"MachineHealthCheckPolicy",
       {{"HealthCheckType", "RunScript"},
        {"HealthCheckInterval", "01:00:00"},
        {"HealthCheckCron", nullptr},
        {"HealthCheckCronTimezone", "UTC"},
        {"HealthCheckScheduleType", "Interval"},
        {"BashHealthCheckPolicy", {{"RunType", "Inline"}, {"ScriptBody", ""}}},
        {"PowerShellHealthCheckPolicy", {{"RunType", "Inline"}, {"ScriptBody", ""}}}}},
      {"MachineUpdatePolicy",
       {{"CalamariUpdateBehavior", "UpdateOnDeployment"},
        {"TentacleUpdateBehavior", "NeverUpdate"},
        {"TentacleUpdateAccountId", nullptr}}},
      {"Links", {{"Self", "/api/" + p.space_id + "/machinepolicies/" + p.id}}}};
  // Stored settings win over the defaults above.
  for (const auto& [key, value] : p.doc.items()) doc[key] = value;
  return doc;
}

}  // namespace cuttle::model
