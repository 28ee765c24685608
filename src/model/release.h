// The Octopus JSON shapes of releases, deployments and dashboard cells
// (reference-octopus-deployment-model.md §2.10, §2.11, §2.13; reference-octopus-api.md §2.7-2.8).
#pragma once

#include <nlohmann/json.hpp>

#include "repo/deployments.h"
#include "repo/releases.h"

namespace cuttle::model {

nlohmann::json ReleaseJson(const repo::ReleaseRow& r);
nlohmann::json DeploymentJson(const repo::DeploymentRow& d);
// A dashboard item; `current` marks the cell's newest deployment (IsCurrent), else IsPrevious.
nlohmann::json DashboardItemJson(const repo::DashboardItem& i, bool current);
// The same item appended to `out` as JSON text, without building a document: the dashboard writes
// (projects × environments) of them, and building each as a JSON object first costs most of its
// time in allocations.
void AppendDashboardItemJson(std::string& out, const repo::DashboardItemRef& i, bool current);
inline void AppendDashboardItemJson(std::string& out, const repo::DashboardItem& i, bool current) {
  AppendDashboardItemJson(out, repo::Ref(i), current);
}

}  // namespace cuttle::model
