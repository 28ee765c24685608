#include "model/machine.h"

#include "core/strings.h"
#include "model/document.h"

namespace cuttle::model {

namespace {

// Octopus's legacy Status, derived from the health status.
const char* LegacyStatus(const repo::MachineRow& m) {
  if (m.is_disabled) return "Disabled";
  if (m.health_status == "Healthy" || m.health_status == "HasWarnings") return "Online";
  if (m.health_status == "Unhealthy" || m.health_status == "Unavailable") return "Offline";
  return "Unknown";
}

std::string StatusSummary(const repo::MachineRow& m) {
  if (m.is_disabled) return "This deployment target is disabled.";
  if (m.health_status == "Unknown") return "This deployment target has not been health checked.";
  // What the last Health task found (deploy/health_kind.cc), while the status is still the one
  // it found (an agent's liveness may have changed it since).
  auto it = m.doc.find("StatusSummary");
  auto of = m.doc.find(kStatusSummaryOf);
  if (it != m.doc.end() && it->is_string() && of != m.doc.end() && of->is_string() &&
      of->get<std::string>() == m.health_status) {
    return it->get<std::string>();
  }
  return "The last health check found this deployment target " + m.health_status + ".";
}

}  // namespace

nlohmann::json MachineJson(const repo::MachineRow& m) {
  using nlohmann::json;
  json endpoint = m.doc.contains("Endpoint") && m.doc["Endpoint"].is_object() ? m.doc["Endpoint"]
                                                                              : json::object();
  endpoint["CommunicationStyle"] = m.communication_style;
  if (m.thumbprint) endpoint["Thumbprint"] = *m.thumbprint;
  const json uri = endpoint.contains("Uri") ? endpoint["Uri"] : json();
  const std::string self = "/api/" + m.space_id + "/machines/" + m.id;
  json doc = {{"Id", m.id},
              {"SpaceId", m.space_id},
              {"Name", m.name},
              {"Roles", m.roles},
              {"EnvironmentIds", m.environment_ids},
              {"IsDisabled", m.is_disabled},
              {"MachinePolicyId", m.machine_policy_id},
              {"HealthStatus", m.health_status},
              {"Status", LegacyStatus(m)},
              {"StatusSummary", StatusSummary(m)},
              {"HasLatestCalamari", true},
              {"IsInProcess", false},
              {"Endpoint", std::move(endpoint)},
              {"Thumbprint", m.thumbprint ? json(*m.thumbprint) : json()},
              {"Uri", uri},
              {"Links",
               {{"Self", self},
                {"Connection", self + "/connection"},
                {"TasksTemplate", self + "/tasks{?skip,take}"}}}};
  // Cuttle's own: the agent's last contact (ISO 8601), null for a target without an agent.
  doc["LastContact"] = m.last_contact_ms ? json(core::FormatIso8601(*m.last_contact_ms)) : json();
  AddExtras(doc, m.doc);
  doc.erase(kStatusSummaryOf);  // Cuttle's own bookkeeping, not Octopus's shape
  if (!doc.contains("Slug")) doc["Slug"] = Slugify(m.name);
  if (!doc.contains("TenantIds")) doc["TenantIds"] = json::array();
  if (!doc.contains("TenantTags")) doc["TenantTags"] = json::array();
  if (!doc.contains("TenantedDeploymentParticipation")) {
    doc["TenantedDeploymentParticipation"] = "Untenanted";
  }
  for (const char* key : {"OperatingSystem", "ShellName", "ShellVersion", "Architecture"}) {
    if (!doc.contains(key)) doc[key] = "Unknown";
  }
  return doc;
}

}  // namespace cuttle::model
