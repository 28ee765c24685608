// Deployment targets (/machines) and machine policies (/machinepolicies), space-scoped.
#include <limits>
#include <map>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"
#include "model/document.h"
#include "model/environment.h"
#include "model/machine.h"
#include "model/machine_policy.h"
#include "repo/environments.h"
#include "repo/machine_policies.h"
#include "repo/repo.h"
#include "repo/settings.h"

namespace cuttle::api {

namespace {

std::vector<std::string> NonBlank(std::vector<std::string> values) {
  std::vector<std::string> out;
  for (auto& v : values) {
    std::string t(core::Trim(v));
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

// The endpoint: CommunicationStyle None (a cloud region) or TentacleActive (a polling agent, which
// needs the Thumbprint of its certificate; Uri is kept). Unknown endpoint properties are kept.
void BindEndpoint(Binder& b, const json& body, repo::MachineRow& m) {
  const json* v = b.Find("Endpoint");
  if (v == nullptr || v->is_null()) {
    b.Problem("The Endpoint field is required.");
    return;
  }
  if (!v->is_object()) {
    b.Problem("The Endpoint field must be an object.");
    return;
  }
  Binder eb(*v);
  std::vector<std::string> styles(std::begin(model::kCommunicationStyles),
                                  std::end(model::kCommunicationStyles));
  if (!eb.Has("CommunicationStyle")) eb.Problem("The CommunicationStyle field is required.");
  m.communication_style = eb.Enum("CommunicationStyle", styles, "None");
  std::optional<std::string> thumbprint = eb.OptionalString("Thumbprint");
  if (!thumbprint) {
    Binder top(body);  // the legacy top-level Thumbprint
    thumbprint = top.OptionalString("Thumbprint");
  }
  if (thumbprint && core::Trim(*thumbprint).empty()) thumbprint.reset();
  if (m.communication_style == "TentacleActive") {
    if (!thumbprint) eb.Problem("The Thumbprint field is required for a TentacleActive endpoint.");
    eb.OptionalString("Uri");
    m.thumbprint = thumbprint;
  } else {
    m.thumbprint.reset();
  }
  ForwardProblems(b, eb, "Endpoint.");
  json endpoint = *v;
  for (const char* owned :
       {"CommunicationStyle", "Thumbprint", "communicationStyle", "thumbprint"}) {
    endpoint.erase(owned);
  }
  if (m.doc.contains("Endpoint") && m.doc["Endpoint"].contains("Id")) {
    endpoint["Id"] = m.doc["Endpoint"]["Id"];  // the server's
  } else {
    endpoint.erase("Id");
  }
  m.doc["Endpoint"] = std::move(endpoint);
}

// Reads the body over `m` (defaults on create; the stored target on PUT, where a property the
// body leaves out keeps its value). Octopus requires at least one environment and one role.
void BindMachine(Binder& b, const json& body, bool create, repo::MachineRow& m) {
  if (create || b.Find("Name") != nullptr) m.name = b.RequiredString("Name");
  if (create || b.Find("EnvironmentIds") != nullptr) {
    m.environment_ids = NonBlank(b.StringList("EnvironmentIds"));
    if (m.environment_ids.empty())
      b.Problem("The EnvironmentIds field needs at least one environment.");
  }
  if (create || b.Find("Roles") != nullptr) {
    m.roles = NonBlank(b.StringList("Roles"));
    if (m.roles.empty()) b.Problem("The Roles field needs at least one role.");
  }
  m.is_disabled = b.Bool("IsDisabled", m.is_disabled);
  if (b.Has("MachinePolicyId")) m.machine_policy_id = b.String("MachinePolicyId");
  if (create || b.Find("Endpoint") != nullptr) BindEndpoint(b, body, m);
  json endpoint = m.doc.value("Endpoint", json::object());
  m.doc = model::MergeExtras(m.doc, model::Extras(body, model::kMachineFields));
  m.doc["Endpoint"] = std::move(endpoint);
}

std::optional<std::vector<std::string>> ListQuery(const http::Request& req, const char* name) {
  auto v = req.Query(name);
  if (!v) return std::nullopt;
  return core::Split(*v, ',');
}

Result<repo::MachineFilter> ReadMachineFilter(const http::Request& req, const std::string& space) {
  repo::MachineFilter f;
  f.space_id = space;
  f.environment_ids = ListQuery(req, "environmentIds");
  f.roles = ListQuery(req, "roles");
  f.health_statuses = ListQuery(req, "healthStatuses");
  f.communication_styles = ListQuery(req, "commStyles");
  f.name = req.Query("name");
  f.thumbprint = req.Query("thumbprint");
  if (auto d = req.Query("isDisabled")) {
    const std::string v = core::ToLower(*d);
    if (v != "true" && v != "false") {
      return Fail(Error::InvalidArgument("The isDisabled parameter must be true or false."));
    }
    f.is_disabled = v == "true";
  }
  return f;
}

Result<repo::MachineRow> FindOr404(ApiContext& ctx, const std::string& space,
                                   const std::string& id) {
  CUTTLE_TRY(auto m, repo::FindMachine(ctx.db, space, id));
  if (!m) return Fail(Error::NotFound("deployment target", id));
  return std::move(*m);
}

}  // namespace

Result<http::Response> ListMachines(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto f, ReadMachineFilter(req, space));
  CUTTLE_TRY(auto page, repo::ListMachines(ctx.db, f, q));
  return ListResponse<repo::MachineRow>("DeploymentTarget", req, page, q, model::MachineJson);
}

Result<http::Response> ListAllMachines(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto f, ReadMachineFilter(req, space));
  CUTTLE_TRY(auto rows, repo::ListAllMachines(ctx.db, f, q));
  return AllResponse<repo::MachineRow>(rows, model::MachineJson);
}

Result<http::Response> ListEnvironmentMachines(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto env, repo::FindEnvironment(ctx.db, space, req.Param("id")));
  if (!env) return Fail(Error::NotFound("environment", req.Param("id")));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto f, ReadMachineFilter(req, space));
  f.environment_ids = std::vector<std::string>{env->id};
  CUTTLE_TRY(auto page, repo::ListMachines(ctx.db, f, q));
  return ListResponse<repo::MachineRow>("DeploymentTarget", req, page, q, model::MachineJson);
}

// Octopus's infrastructure overview (`environments/summary`): per environment, and in all, how
// many targets are in each health status and of each endpoint kind, so health checks and agent
// liveness show at a glance. Filters: the environments' `ids` and `partialName`; the machines'
// `roles`, `healthStatuses`, `commStyles` and `isDisabled` (as on /machines). Tenant summaries
// are empty: Cuttle has no tenants.
Result<http::Response> EnvironmentsSummary(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  repo::PageQuery envs_query;
  envs_query.ids = ListQuery(req, "ids");
  envs_query.partial_name = req.Query("partialName");
  envs_query.take = std::numeric_limits<int64_t>::max();
  CUTTLE_TRY(auto envs, repo::ListAllEnvironments(ctx.db, {space, std::nullopt}, envs_query));
  CUTTLE_TRY(auto f, ReadMachineFilter(req, space));
  repo::PageQuery all;
  all.take = std::numeric_limits<int64_t>::max();
  CUTTLE_TRY(auto machines, repo::ListAllMachines(ctx.db, f, all));

  auto empty_health = [] {
    json h = json::object();
    for (const char* s : model::kHealthStatuses) h[s] = 0;
    return h;
  };
  auto empty_endpoints = [] {
    json e = json::object();
    for (const char* s : model::kCommunicationStyles) e[s] = 0;
    return e;
  };
  struct Counts {
    json health;
    json endpoints;
    int64_t total = 0;
    int64_t disabled = 0;
  };
  auto add = [](Counts& c, const repo::MachineRow& m) {
    c.health[m.health_status] = c.health.value(m.health_status, 0) + 1;
    c.endpoints[m.communication_style] = c.endpoints.value(m.communication_style, 0) + 1;
    ++c.total;
    if (m.is_disabled) ++c.disabled;
  };
  Counts overall{empty_health(), empty_endpoints()};
  std::map<std::string, Counts> per_env;
  for (const auto& e : envs) per_env.emplace(e.id, Counts{empty_health(), empty_endpoints()});
  for (const auto& m : machines) {
    bool counted = false;
    for (const auto& env_id : m.environment_ids) {
      auto it = per_env.find(env_id);
      if (it == per_env.end()) continue;
      add(it->second, m);
      counted = true;
    }
    if (counted) add(overall, m);
  }
  auto common = [](json& j, const Counts& c) {
    j["MachineHealthStatusSummaries"] = c.health;
    j["MachineEndpointSummaries"] = c.endpoints;
    j["TentacleUpgradesRequired"] = false;
    j["MachineIdsForCalamariUpgrade"] = json::array();
    j["MachineIdsForTentacleUpgrade"] = json::array();
    j["MachineTenantSummaries"] = json::object();
    j["MachineTenantTagSummaries"] = json::object();
    j["TotalMachines"] = c.total;
    j["TotalDisabledMachines"] = c.disabled;
  };
  json summaries = json::array();
  for (const auto& e : envs) {
    json one = {{"Environment", model::EnvironmentJson(e)}};
    common(one, per_env.at(e.id));
    summaries.push_back(std::move(one));
  }
  json body = {{"EnvironmentSummaries", std::move(summaries)}};
  common(body, overall);
  return http::Response::Json(200, body);
}

Result<http::Response> GetMachine(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto m, FindOr404(ctx, space, req.Param("id")));
  return http::Response::Json(200, model::MachineJson(m));
}

Result<http::Response> CreateMachine(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  repo::MachineRow m;
  m.space_id = space;
  BindMachine(b, body, true, m);
  CUTTLE_TRY_VOID(b.Finish("deployment target"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    repo::MachineRow attempt = m;  // the transaction may run again
    CUTTLE_TRY_VOID(repo::CompleteMachine(tx, attempt));
    CUTTLE_TRY(auto saved, repo::InsertMachine(tx, std::move(attempt)));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created",
                                "Deployment target " + saved.name + " was created.", {saved.id}));
    m = std::move(saved);
    return {};
  }));
  return http::Response::Json(201, model::MachineJson(m));
}

Result<http::Response> ModifyMachine(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto m, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  BindMachine(b, body, false, m);
  CUTTLE_TRY_VOID(b.Finish("deployment target"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(repo::CompleteMachine(tx, m));
    CUTTLE_TRY(bool updated, repo::UpdateMachine(tx, m));
    if (!updated) return Fail(Error::NotFound("deployment target", m.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "Deployment target " + m.name + " was modified.", {m.id}));
    return {};
  }));
  CUTTLE_TRY(auto saved, FindOr404(ctx, space, m.id));
  return http::Response::Json(200, model::MachineJson(saved));
}

Result<http::Response> DeleteMachine(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto m, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteMachine(tx, space, m.id));
    if (!deleted) return Fail(Error::NotFound("deployment target", m.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted",
                                "Deployment target " + m.name + " was deleted.", {m.id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

// Machine policies: read-only; every space has its default one.
Result<http::Response> ListMachinePolicies(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListMachinePolicies(ctx.db, space, q));
  return ListResponse<repo::MachinePolicyRow>("MachinePolicy", req, page, q,
                                              model::MachinePolicyJson);
}

Result<http::Response> ListAllMachinePolicies(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllMachinePolicies(ctx.db, space, q));
  return AllResponse<repo::MachinePolicyRow>(rows, model::MachinePolicyJson);
}

Result<http::Response> GetMachinePolicy(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto p, repo::FindMachinePolicy(ctx.db, space, req.Param("id")));
  if (!p) return Fail(Error::NotFound("machine policy", req.Param("id")));
  return http::Response::Json(200, model::MachinePolicyJson(*p));
}

}  // namespace cuttle::api
