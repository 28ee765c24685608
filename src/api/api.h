// The REST API: Octopus-compatible resources (reference-octopus-api.md) on top of the domain
// modules. BuildRouter lists every route in one table (routes.cc); each resource family keeps its
// handlers in one file. The context outlives the router; handlers are called concurrently.
#pragma once

#include <memory>
#include <string>

#include "agents/service.h"
#include "api/dashboard.h"
#include "auth/sessions.h"
#include "cluster/node_registry.h"
#include "config/config.h"
#include "crypto/secret_box.h"
#include "db/database.h"
#include "feed/package_store.h"
#include "http/http.h"
#include "tasks/artifacts.h"
#include "tasks/task_log.h"
#include "tasks/task_queue.h"

namespace cuttle::api {

struct ApiContext {
  db::Database& db;
  cluster::NodeRegistry& registry;
  const config::Options& options;
  std::string installation_id;
  tasks::TaskQueue& queue;
  tasks::ArtifactStore& artifacts;
  feed::PackageStore& packages;
  // Seals and opens sensitive values under the cluster's master key (never null on a node: a
  // node does not start without a key).
  const crypto::SecretBox& secrets;
  // The dashboards this node built, each under the change counter it was built at.
  std::shared_ptr<DashboardCache> dashboard = std::make_shared<DashboardCache>();
  // How far each task log was scanned for warnings (the step tree, /details?tail=0).
  std::shared_ptr<tasks::WarningScanCache> warning_scans =
      std::make_shared<tasks::WarningScanCache>();
  // The agent protocol (/api/agent/v1); its routes are left out when null.
  agents::AgentService* agents = nullptr;
  // Seals sign-in session cookies under a key derived from the master key (auth/sessions.h).
  // Null: no sign-in, and cookies are ignored (API keys only).
  const crypto::SessionSeal* sessions = nullptr;
  // Session lifetimes, the lockout rule and the password hashing cost.
  auth::SessionPolicy session_policy;
};

std::shared_ptr<http::Router> BuildRouter(ApiContext& ctx);

}  // namespace cuttle::api
