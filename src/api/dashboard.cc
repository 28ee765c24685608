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

void DashboardParts::Start(std::string head) {
  const size_t hint = size_hint();
  version_ = -1;
  body_.reset();
  cells_.clear();
  index_.clear();
  index_.reserve(hint / 512);
  building_ = std::move(head);
  building_.reserve(std::max(hint + hint / 16, building_.size() + 4096));
  items_begin_ = building_.size();
}

std::string& DashboardParts::OpenCell(std::string key) {
  if (!cells_.empty()) building_ += ',';
  index_.try_emplace(std::move(key), cells_.size());
  cells_.push_back({building_.size(), 0});
  return building_;
}

void DashboardParts::CloseCell() { cells_.back().size = building_.size() - cells_.back().offset; }

std::shared_ptr<const std::string> DashboardParts::Finish(std::string_view tail, int64_t version) {
  items_end_ = building_.size();
  building_ += tail;
  body_ = std::make_shared<const std::string>(std::move(building_));
  building_ = std::string();
  version_ = version;
  return body_;
}

std::shared_ptr<const std::string> DashboardParts::Splice(std::vector<Change> changes,
                                                          int64_t version) {
  const size_t old_cells = cells_.size();
  std::vector<std::pair<size_t, const std::string*>> changed;  // by place in the body
  changed.reserve(changes.size());
  size_t added_size = 0;
  for (const auto& c : changes) {
    auto [it, added] = index_.try_emplace(c.key, cells_.size());
    if (added) cells_.push_back({});
    changed.emplace_back(it->second, &c.json);
    added_size += c.json.size() + 1;
  }
  std::sort(changed.begin(), changed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::string& old = *body_;
  std::string body;
  body.reserve(old.size() + added_size);
  body.append(old, 0, items_begin_);
  // Cells [from, to) are unchanged: they lie in the old body one after the other with their
  // commas, and are copied in one piece.
  auto copy_unchanged = [&](size_t from, size_t to) {
    if (from >= to) return;
    if (from > 0) body += ',';
    const size_t start = cells_[from].offset;
    const size_t end = cells_[to - 1].offset + cells_[to - 1].size;
    const size_t at = body.size();
    body.append(old, start, end - start);
    for (size_t c = from; c < to; ++c) cells_[c].offset = cells_[c].offset - start + at;
  };
  size_t next = 0;  // the first cell not yet in `body`
  for (const auto& [c, json] : changed) {
    copy_unchanged(next, std::min(c, old_cells));
    if (c > 0) body += ',';
    cells_[c] = {body.size(), json->size()};
    body += *json;
    next = c + 1;
  }
  copy_unchanged(next, old_cells);
  const size_t old_items_end = items_end_;
  items_end_ = body.size();
  body.append(old, old_items_end);
  body_ = std::make_shared<const std::string>(std::move(body));
  version_ = version;
  return body_;
}

std::shared_ptr<const std::string> DashboardParts::Rebuild(std::string head,
                                                           std::vector<std::string> keys,
                                                           std::vector<Change> changes,
                                                           std::string_view tail, int64_t version) {
  if (!body_) return nullptr;
  std::unordered_map<std::string_view, const Change*> changed;
  changed.reserve(changes.size());
  for (const auto& c : changes) changed.emplace(c.key, &c);
  for (const auto& k : keys) {
    if (!changed.contains(k) && !index_.contains(k)) return nullptr;
  }
  const std::shared_ptr<const std::string> old = body_;
  std::vector<Cell> cells;
  cells.reserve(keys.size() + changes.size());
  std::unordered_map<std::string, size_t> index;
  index.reserve(keys.size() + changes.size());
  std::string body = std::move(head);
  const size_t begin = body.size();
  body.reserve(begin + old->size() + tail.size());
  auto add = [&](std::string key, std::string_view json) {
    if (!cells.empty()) body += ',';
    cells.push_back({body.size(), json.size()});
    body += json;
    index.try_emplace(std::move(key), cells.size() - 1);
  };
  for (auto& k : keys) {
    if (auto c = changed.find(k); c != changed.end()) {
      const std::string_view json = c->second->json;
      changed.erase(c);
      add(std::move(k), json);
    } else {
      const Cell& was = cells_[index_.find(k)->second];
      add(std::move(k), std::string_view(*old).substr(was.offset, was.size));
    }
  }
  for (const auto& c : changes) {
    if (changed.contains(c.key)) add(c.key, c.json);  // written after `keys` was read
  }
  items_begin_ = begin;
  items_end_ = body.size();
  body += tail;
  cells_ = std::move(cells);
  index_ = std::move(index);
  body_ = std::make_shared<const std::string>(std::move(body));
  version_ = version;
  return body_;
}

namespace {

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

// The unfiltered dashboard at `v`: from `parts` when only cells changed since they were built
// (rereading those and splicing them into the last body), else from scratch. `parts` is left at
// `v`, or invalidated on failure.
Result<std::shared_ptr<const std::string>> BuildUnfiltered(ApiContext& ctx,
                                                           const std::string& space,
                                                           const repo::DashboardVersions& v,
                                                           DashboardParts& parts) {
  const int64_t since = parts.version();
  parts.Invalidate();  // until done
  std::vector<DashboardParts::Change> changes;
  if (since >= 0) {
    CUTTLE_TRY_VOID(
        repo::ForEachDashboardItem(ctx.db, space, since, [&](const repo::DashboardItemRef& i) {
          DashboardParts::Change c;
          c.key = CellKey(i.project_id, i.environment_id);
          model::AppendDashboardItemJson(c.json, i, true);
          changes.push_back(std::move(c));
        }));
    if (v.layout <= since) return parts.Splice(std::move(changes), v.version);
  }
  CUTTLE_TRY(std::string head, BuildHead(ctx, space, std::nullopt));
  std::string tail;
  AppendTail(tail, space, "", false);
  if (since >= 0) {
    // The cells that are there now (a deleted one goes); those that did not change since the
    // last build keep their text.
    std::vector<std::string> keys;
    keys.reserve(parts.size_hint() / 512);
    CUTTLE_TRY_VOID(repo::ForEachDashboardCell(
        ctx.db, space, [&](std::string_view project_id, std::string_view environment_id) {
          keys.push_back(CellKey(project_id, environment_id));
        }));
    if (auto body = parts.Rebuild(head, std::move(keys), std::move(changes), tail, v.version)) {
      return body;
    }
  }
  parts.Start(std::move(head));
  CUTTLE_TRY_VOID(
      repo::ForEachDashboardItem(ctx.db, space, std::nullopt, [&](const repo::DashboardItemRef& i) {
        model::AppendDashboardItemJson(parts.OpenCell(CellKey(i.project_id, i.environment_id)), i,
                                       true);
        parts.CloseCell();
      }));
  return parts.Finish(tail, v.version);
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
    return TaggedAnswer(req, etag_of(version), std::move(body));
  };
  // The counter is read before the rows: a change committed in between is then either in the
  // rows (and the next request, seeing a higher counter, builds again) or not yet committed.
  CUTTLE_TRY(auto versions, repo::ReadDashboardVersions(ctx.db, space));
  if (ClientHasTag(req, etag_of(versions.version))) {
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
  std::shared_ptr<const std::string> body;
  if (only_project || previous) {
    CUTTLE_TRY(auto built,
               BuildVariant(ctx, space, only_project, previous, slot->parts.variant_size));
    slot->parts.variant_size = built.size();
    body = std::make_shared<const std::string>(std::move(built));
  } else {
    CUTTLE_TRY(body, BuildUnfiltered(ctx, space, versions, slot->parts));
  }
  ctx.dashboard->Store(*slot, versions.version, body);
  return answer(versions.version, std::move(body));
}

}  // namespace cuttle::api
