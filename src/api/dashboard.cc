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
#include "core/json.h"
#include "core/strings.h"
#include "model/release.h"
#include "repo/deployments.h"
#include "repo/lifecycles.h"

namespace cuttle::api {

std::shared_ptr<const std::string> DashboardCache::Find(const std::string& key,
                                                        int64_t version) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second->version != version) return nullptr;
  it->second->used = ++tick_;
  return it->second->body;
}

std::shared_ptr<DashboardCache::Slot> DashboardCache::Get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) {
    if (slots_.size() >= kMaxEntries) {
      // A build still holding the evicted slot finishes into it and is then dropped.
      slots_.erase(std::min_element(slots_.begin(), slots_.end(), [](auto& a, auto& b) {
        return a.second->used < b.second->used;
      }));
    }
    it = slots_.emplace(key, std::make_shared<Slot>()).first;
  }
  it->second->used = ++tick_;
  return it->second;
}

void DashboardCache::Store(Slot& slot, int64_t version, std::shared_ptr<const std::string> body) {
  std::lock_guard lock(mu_);
  if (slot.version > version) return;  // a newer build got there
  slot.version = version;
  slot.body = std::move(body);
  slot.used = ++tick_;
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

void AppendIdArray(std::string& out, const std::vector<std::string>& ids) {
  out += '[';
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    core::AppendJsonString(out, ids[i]);
  }
  out += ']';
}

void AddUnique(std::vector<std::string>& ids, const std::string& id) {
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

// The dashboard up to its items, written as text: {"Projects":[…],"ProjectGroups":[…],
// "Environments":[…],"Tenants":[],"Items":[
Result<std::string> BuildHead(ApiContext& ctx, const std::string& space,
                              const std::optional<std::string>& only_project) {
  CUTTLE_TRY(auto envs, SpaceEnvironments(ctx, space));
  // Each lifecycle's environments, once per lifecycle rather than once per project.
  repo::PageQuery all;
  all.take = std::numeric_limits<int64_t>::max();
  CUTTLE_TRY(auto lifecycles, repo::ListAllLifecycles(ctx.db, space, all));
  struct LifecycleEnvs {
    std::vector<std::string> ids;
    std::string json;
  };
  std::map<std::string, LifecycleEnvs> lifecycle_envs;
  for (const auto& row : lifecycles) {
    LifecycleEnvs& l = lifecycle_envs[row.id];
    for (const auto& phase : LifecyclePhases(row, envs).phases) {
      for (const auto& e : phase.environment_ids) AddUnique(l.ids, e);
    }
    AppendIdArray(l.json, l.ids);
  }
  const LifecycleEnvs none{{}, "[]"};
  std::string out;
  out.reserve(256 * 1024);
  out += "{\"Projects\":[";
  repo::Where pw;
  pw.Add("space_id = {}", space);
  if (only_project) pw.Add("lower(id) = lower({})", *only_project);
  std::map<std::string, std::vector<std::string>, std::less<>> group_envs;
  bool first = true;
  CUTTLE_TRY_VOID(ctx.db.ForEachRow(
      "SELECT id, name, slug, project_group_id, lifecycle_id, is_disabled FROM projects" +
          pw.Sql() + " ORDER BY " + repo::ByteOrder("name", true) + ", id",
      pw.params(), [&](const db::RowView& r) {
        auto l = lifecycle_envs.find(std::string(r.Text(4)));
        const LifecycleEnvs& envs_of = l == lifecycle_envs.end() ? none : l->second;
        auto g = group_envs.find(r.Text(3));
        if (g == group_envs.end())
          g = group_envs.emplace(std::string(r.Text(3)), std::vector<std::string>{}).first;
        for (const auto& e : envs_of.ids) AddUnique(g->second, e);
        if (!first) out += ',';
        first = false;
        out += "{\"Id\":";
        core::AppendJsonString(out, r.Text(0));
        out += ",\"Name\":";
        core::AppendJsonString(out, r.Text(1));
        out += ",\"Slug\":";
        core::AppendJsonString(out, r.Text(2));
        out += ",\"ProjectGroupId\":";
        core::AppendJsonString(out, r.Text(3));
        out += ",\"EnvironmentIds\":";
        out += envs_of.json;
        out += ",\"IsDisabled\":";
        out += r.GetBool(5) ? "true" : "false";
        out +=
            ",\"TenantedDeploymentMode\":\"Untenanted\",\"CanPerformUntenantedDeployment\":true}";
      }));
  out += "],\"ProjectGroups\":[";
  first = true;
  CUTTLE_TRY_VOID(
      ctx.db.ForEachRow("SELECT id, name FROM project_groups WHERE space_id = $1 ORDER BY " +
                            repo::ByteOrder("name", true) + ", id",
                        {space}, [&](const db::RowView& r) {
                          auto it = group_envs.find(r.Text(0));
                          if (only_project && it == group_envs.end()) return;
                          if (!first) out += ',';
                          first = false;
                          out += "{\"Id\":";
                          core::AppendJsonString(out, r.Text(0));
                          out += ",\"Name\":";
                          core::AppendJsonString(out, r.Text(1));
                          out += ",\"EnvironmentIds\":";
                          if (it == group_envs.end()) {
                            out += "[]";
                          } else {
                            AppendIdArray(out, it->second);
                          }
                          out += '}';
                        }));
  out += "],\"Environments\":[";
  for (size_t i = 0; i < envs.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"Id\":";
    core::AppendJsonString(out, envs[i].id);
    out += ",\"Name\":";
    core::AppendJsonString(out, envs[i].name);
    out += '}';
  }
  out += "],\"Tenants\":[],\"Items\":[";
  return out;
}

// After the items: ],"PreviousItems":[…],"IsFiltered":…,"Links":{…}}
void AppendTail(std::string& out, const std::string& space, const std::string& previous_items,
                bool filtered) {
  out += "],\"PreviousItems\":[";
  out += previous_items;
  out += "],\"IsFiltered\":";
  out += filtered ? "true" : "false";
  out += ",\"Links\":{\"Self\":\"/api/" + space + "/dashboard\"}}";
}

std::string CellKey(std::string_view project_id, std::string_view environment_id) {
  std::string key;
  key.reserve(project_id.size() + environment_id.size() + 1);
  key += project_id;
  key += '\n';
  key += environment_id;
  return key;
}

// A filtered or with-previous variant, written in one piece.
Result<std::string> BuildVariant(ApiContext& ctx, const std::string& space,
                                 const std::optional<std::string>& only_project, bool previous,
                                 size_t size_hint) {
  CUTTLE_TRY(std::string body, BuildHead(ctx, space, only_project));
  body.reserve(std::max(size_hint, body.size() + 4096));
  bool first = true;
  CUTTLE_TRY_VOID(
      repo::ForEachDashboardItem(ctx.db, space, std::nullopt, [&](const repo::DashboardItemRef& i) {
        if (only_project && !core::EqualsIgnoreCase(i.project_id, *only_project)) return;
        if (!first) body += ',';
        first = false;
        model::AppendDashboardItemJson(body, i, true);
      }));
  std::string previous_text;
  if (previous) {
    CUTTLE_TRY(auto items, repo::DashboardPreviousItems(ctx.db, space));
    for (const auto& i : items) {
      if (only_project && !core::EqualsIgnoreCase(i.project_id, *only_project)) continue;
      if (!previous_text.empty()) previous_text += ',';
      model::AppendDashboardItemJson(previous_text, i, false);
    }
  }
  AppendTail(body, space, previous_text, only_project.has_value());
  return body;
}

// The unfiltered dashboard at `v`, from `parts` built earlier when only cells changed since
// (rereading those), else from scratch. `parts` is left at `v`, or reset on failure.
Result<std::string> BuildUnfiltered(ApiContext& ctx, const std::string& space,
                                    const repo::DashboardVersions& v, DashboardParts& parts) {
  const bool incremental = parts.version >= 0 && v.layout <= parts.version;
  const std::optional<int64_t> since =
      incremental ? std::optional<int64_t>(parts.version) : std::nullopt;
  const size_t size_hint = parts.body_size;
  if (!incremental) {
    parts = DashboardParts{};
    CUTTLE_TRY(parts.head, BuildHead(ctx, space, std::nullopt));
    AppendTail(parts.tail, space, "", false);
  }
  parts.version = -1;  // until the cells are read
  std::string text;
  CUTTLE_TRY_VOID(
      repo::ForEachDashboardItem(ctx.db, space, since, [&](const repo::DashboardItemRef& i) {
        text.clear();
        model::AppendDashboardItemJson(text, i, true);
        auto [it, added] =
            parts.index.try_emplace(CellKey(i.project_id, i.environment_id), parts.items.size());
        if (added) {
          parts.items.emplace_back(text);
        } else {
          parts.items[it->second].assign(text);
        }
      }));
  parts.version = v.version;
  std::string body;
  size_t size = parts.head.size() + parts.tail.size() + parts.items.size();
  for (const auto& i : parts.items) size += i.size();
  body.reserve(std::max(size, size_hint));
  body += parts.head;
  for (size_t i = 0; i < parts.items.size(); ++i) {
    if (i > 0) body += ',';
    body += parts.items[i];
  }
  body += parts.tail;
  parts.body_size = body.size();
  return body;
}

}  // namespace

Result<http::Response> GetDashboard(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const auto only_project = req.Query("projectId");
  const bool previous = core::EqualsIgnoreCase(req.Query("includePrevious").value_or(""), "true");
  const std::string key =
      space + '\n' + core::ToLower(only_project.value_or("")) + '\n' + (previous ? "previous" : "");
  // The installation id keeps a node from taking one database's counter for another's.
  // The variant (filter, previous items) is hex, so that nothing a client sent reaches a header.
  // The space is part of the tag: two spaces' counters can hold the same value.
  auto etag_of = [&](int64_t version) {
    std::string etag = fmt::format("\"{}-{}-{}", ctx.installation_id, space, version);
    if (only_project || previous) etag += fmt::format("-{}", core::HexEncode(key));
    etag += '"';
    return etag;
  };
  auto answer = [&](int64_t version, std::shared_ptr<const std::string> body) {
    auto r = body ? http::Response::Text(200, "", "application/json; charset=utf-8")
                  : http::Response::Text(304, "");
    if (body) r.shared_body = std::move(body);
    r.SetHeader("ETag", etag_of(version));
    r.SetHeader("Cache-Control", "no-cache");  // revalidate on every use
    return r;
  };
  // The counter is read before the rows: a change committed in between is then either in the
  // rows (and the next request, seeing a higher counter, builds again) or not yet committed.
  CUTTLE_TRY(auto versions, repo::ReadDashboardVersions(ctx.db, space));
  if (auto match = req.Header("If-None-Match");
      match && NoneMatch(*match, etag_of(versions.version))) {
    return answer(versions.version, nullptr);
  }
  if (auto body = ctx.dashboard->Find(key, versions.version)) {
    return answer(versions.version, std::move(body));
  }
  // One build at a time per variant: a request that waited takes what the build before it made
  // if the counter has not moved since.
  auto slot = ctx.dashboard->Get(key);
  std::lock_guard building(slot->building);
  CUTTLE_TRY(versions, repo::ReadDashboardVersions(ctx.db, space));
  if (auto body = ctx.dashboard->Find(key, versions.version)) {
    return answer(versions.version, std::move(body));
  }
  std::string built;
  if (only_project || previous) {
    CUTTLE_TRY(built, BuildVariant(ctx, space, only_project, previous, slot->parts.body_size));
    slot->parts.body_size = built.size();
  } else {
    CUTTLE_TRY(built, BuildUnfiltered(ctx, space, versions, slot->parts));
  }
  auto body = std::make_shared<const std::string>(std::move(built));
  ctx.dashboard->Store(*slot, versions.version, body);
  return answer(versions.version, std::move(body));
}

}  // namespace cuttle::api
