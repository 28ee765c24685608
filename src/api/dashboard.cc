// GET /dashboard (reference-octopus-deployment-model.md §2.13): every project and environment of
// the space, and the newest deployment of each project in each environment (one dashboard_latest
// row each, so the cost follows the number of cells, not of deployments). `projectId` narrows it
// to one project; `includePrevious=true` adds each cell's previous successful deployment.
// The body is cached under the space's change counter (api/dashboard.h) and carries it as its
// ETag, so a client polling an unchanged dashboard gets 304 without a body.
#include "api/dashboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "api/deploy_common.h"
#include "api/release_handlers.h"
#include "core/strings.h"
#include "model/release.h"
#include "repo/deployments.h"
#include "repo/lifecycles.h"

namespace cuttle::api {

using nlohmann::json;

std::shared_ptr<const std::string> DashboardCache::Find(const std::string& key,
                                                        int64_t version) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.version != version) return nullptr;
  it->second.used = ++tick_;
  return it->second.body;
}

void DashboardCache::Store(const std::string& key, int64_t version,
                           std::shared_ptr<const std::string> body) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.version > version) return;  // a newer build got there
  if (it == entries_.end() && entries_.size() >= kMaxEntries) {
    entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.used < b.second.used;
    }));
  }
  entries_[key] = Entry{version, std::move(body), ++tick_};
}

namespace {

// True when an If-None-Match header names `etag` (or is "*").
bool NoneMatch(std::string_view header, std::string_view etag) {
  for (const auto& part : core::Split(header, ',')) {
    std::string_view tag = core::Trim(part);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

Result<std::string> BuildDashboard(ApiContext& ctx, const std::string& space,
                                   const std::optional<std::string>& only_project, bool previous) {
  CUTTLE_TRY(auto envs, SpaceEnvironments(ctx, space));
  json environments = json::array();
  for (const auto& e : envs) environments.push_back({{"Id", e.id}, {"Name", e.name}});
  // Each lifecycle's environments, once per lifecycle rather than once per project.
  repo::PageQuery all;
  all.take = std::numeric_limits<int64_t>::max();
  CUTTLE_TRY(auto lifecycles, repo::ListAllLifecycles(ctx.db, space, all));
  std::map<std::string, json> lifecycle_envs;
  for (const auto& row : lifecycles) {
    json ids = json::array();
    for (const auto& phase : LifecyclePhases(row, envs).phases) {
      for (const auto& e : phase.environment_ids) {
        if (std::find(ids.begin(), ids.end(), e) == ids.end()) ids.push_back(e);
      }
    }
    lifecycle_envs[row.id] = std::move(ids);
  }
  repo::Where pw;
  pw.Add("space_id = {}", space);
  if (only_project) pw.Add("lower(id) = lower({})", *only_project);
  CUTTLE_TRY(auto projects,
             ctx.db.Execute("SELECT id, name, slug, project_group_id, "
                            "lifecycle_id, is_disabled FROM projects" +
                                pw.Sql() + " ORDER BY " + repo::ByteOrder("name", true) + ", id",
                            pw.params()));
  json project_list = json::array();
  std::map<std::string, json> group_envs;
  for (const auto& r : projects.rows) {
    const json& ids = lifecycle_envs[r.GetString(4)];
    json& group = group_envs[r.GetString(3)];
    if (group.is_null()) group = json::array();
    for (const auto& e : ids) {
      if (std::find(group.begin(), group.end(), e) == group.end()) group.push_back(e);
    }
    project_list.push_back({{"Id", r.GetString(0)},
                            {"Name", r.GetString(1)},
                            {"Slug", r.GetString(2)},
                            {"ProjectGroupId", r.GetString(3)},
                            {"EnvironmentIds", ids},
                            {"IsDisabled", r.GetBool(5)},
                            {"TenantedDeploymentMode", "Untenanted"},
                            {"CanPerformUntenantedDeployment", true}});
  }
  CUTTLE_TRY(auto groups, ctx.db.Execute("SELECT id, name FROM project_groups WHERE space_id = $1 "
                                         "ORDER BY " +
                                             repo::ByteOrder("name", true) + ", id",
                                         {space}));
  json group_list = json::array();
  for (const auto& r : groups.rows) {
    auto it = group_envs.find(r.GetString(0));
    if (only_project && it == group_envs.end()) continue;
    group_list.push_back({{"Id", r.GetString(0)},
                          {"Name", r.GetString(1)},
                          {"EnvironmentIds", it == group_envs.end() ? json::array() : it->second}});
  }
  CUTTLE_TRY(auto items, repo::DashboardItems(ctx.db, space));
  std::vector<repo::DashboardItem> previous_items;
  if (previous) {
    CUTTLE_TRY(previous_items, repo::DashboardPreviousItems(ctx.db, space));
  }
  // The items are written as text (model::AppendDashboardItemJson): there are projects ×
  // environments of them.
  auto append_items = [&](std::string& out, const std::vector<repo::DashboardItem>& list,
                          bool current) {
    out += '[';
    bool first = true;
    for (const auto& i : list) {
      if (only_project && !core::EqualsIgnoreCase(i.project_id, *only_project)) continue;
      if (!first) out += ',';
      first = false;
      model::AppendDashboardItemJson(out, i, current);
    }
    out += ']';
  };
  auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  std::string body;
  body.reserve(1024 + (items.size() + previous_items.size()) * 640);
  body += "{\"Projects\":" + dump(project_list);
  body += ",\"ProjectGroups\":" + dump(group_list);
  body += ",\"Environments\":" + dump(environments);
  body += ",\"Tenants\":[],\"Items\":";
  append_items(body, items, true);
  body += ",\"PreviousItems\":";
  append_items(body, previous_items, false);
  body += std::string(",\"IsFiltered\":") + (only_project ? "true" : "false");
  body += ",\"Links\":{\"Self\":\"/api/" + space + "/dashboard\"}}";
  return body;
}

}  // namespace

Result<http::Response> GetDashboard(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const auto only_project = req.Query("projectId");
  const bool previous = core::EqualsIgnoreCase(req.Query("includePrevious").value_or(""), "true");
  // The counter is read before the rows: a change committed in between is then either in the
  // rows (and the next request, seeing a higher counter, builds again) or not yet committed.
  CUTTLE_TRY(const int64_t version, repo::DashboardVersion(ctx.db, space));
  const std::string key =
      space + '\n' + core::ToLower(only_project.value_or("")) + '\n' + (previous ? "previous" : "");
  // The installation id keeps a node from taking one database's counter for another's.
  // The variant (filter, previous items) is hex, so that nothing a client sent reaches a header.
  // The space is part of the tag: two spaces' counters can hold the same value.
  std::string etag = fmt::format("\"{}-{}-{}", ctx.installation_id, space, version);
  if (only_project || previous) etag += fmt::format("-{}", core::HexEncode(key));
  etag += '"';
  auto with_tag = [&](http::Response r) {
    r.SetHeader("ETag", etag);
    r.SetHeader("Cache-Control", "no-cache");  // revalidate on every use
    return r;
  };
  if (auto match = req.Header("If-None-Match"); match && NoneMatch(*match, etag)) {
    return with_tag(http::Response::Text(304, ""));
  }
  auto body = ctx.dashboard->Find(key, version);
  if (!body) {
    CUTTLE_TRY(auto built, BuildDashboard(ctx, space, only_project, previous));
    body = std::make_shared<const std::string>(std::move(built));
    ctx.dashboard->Store(key, version, body);
  }
  auto r = http::Response::Text(200, "", "application/json; charset=utf-8");
  r.shared_body = std::move(body);
  return with_tag(std::move(r));
}

}  // namespace cuttle::api
