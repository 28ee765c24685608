// Releases (reference-octopus-api.md §2.7): creation with package selection, channel rules, the
// versioning template and a snapshot of the process and variables; reads, notes, deletion,
// variable re-snapshots, progression and the deployment template.
#include "repo/releases.h"

#include <algorithm>

#include "api/deploy_common.h"
#include "api/release_handlers.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/strings.h"
#include "feed/version.h"
#include "model/channel.h"
#include "model/project.h"
#include "model/release.h"
#include "model/release_version.h"
#include "repo/deployments.h"
#include "repo/processes.h"
#include "repo/variable_sets.h"

namespace cuttle::api {

using nlohmann::json;

namespace {

// --- package selection ---

struct PackageSpec {  // one "Packages" entry: StepOrPackage[:Reference]:Version, '*' = any
  std::string first, reference, version;
  bool has_reference = false;
};

struct Selection {
  std::vector<PackageSpec> specs;
  std::vector<json> selected;                  // explicit SelectedPackages entries
  std::optional<std::string> default_version;  // PackageVersion
  bool prerelease = false;
};

bool Wild(const std::string& s) { return s.empty() || s == "*"; }
bool Matches(const std::string& pattern, const std::string& value) {
  return Wild(pattern) || core::EqualsIgnoreCase(pattern, value);
}

// The newest version of `package_id` in the built-in feed (a stable one unless `prerelease`,
// or if there is no stable one); nullopt if the feed has none.
Result<std::optional<std::string>> LatestPackage(ApiContext& ctx, const std::string& space,
                                                 const std::string& package_id, bool prerelease) {
  CUTTLE_TRY(auto versions, ctx.packages.List(space, package_id));
  std::optional<feed::Package> best_stable, best_any;
  for (const auto& p : versions) {
    if (!core::EqualsIgnoreCase(p.package_id, package_id)) continue;
    const auto v = p.ParsedVersion();
    if (!best_any || v > best_any->ParsedVersion()) best_any = p;
    if (!v.IsPrerelease() && (!best_stable || v > best_stable->ParsedVersion())) best_stable = p;
  }
  if (best_stable && !prerelease) return std::optional<std::string>(best_stable->version);
  if (best_any) return std::optional<std::string>(best_any->version);
  return std::optional<std::string>();
}

// SelectedPackages for every package reference of the process's enabled actions.
Result<json> SelectPackages(ApiContext& ctx, const std::string& space, const json& steps,
                            const Selection& sel, Binder& problems) {
  json out = json::array();
  for (const auto& step : steps) {
    for (const auto& action : step.value("Actions", json::array())) {
      if (action.value("IsDisabled", false)) continue;
      const std::string action_name = action.value("Name", "");
      const std::string step_name = step.value("Name", "");
      for (const auto& ref : action.value("Packages", json::array())) {
        const std::string ref_name = ref.value("Name", "");
        const std::string package_id = ref.value("PackageId", "");
        std::optional<std::string> version;
        for (const auto& e : sel.selected) {
          const json* a = core::FindKeyIgnoreCase(e, "ActionName");
          if (!a || a->is_null()) a = core::FindKeyIgnoreCase(e, "StepName");
          const json* r = core::FindKeyIgnoreCase(e, "PackageReferenceName");
          const json* v = core::FindKeyIgnoreCase(e, "Version");
          if (!a || !a->is_string() || !v || !v->is_string()) continue;
          const std::string rn = r && r->is_string() ? r->get<std::string>() : "";
          if (core::EqualsIgnoreCase(a->get<std::string>(), action_name) &&
              core::EqualsIgnoreCase(rn, ref_name)) {
            version = v->get<std::string>();
          }
        }
        for (const auto& s : sel.specs) {
          if (version) break;
          if (Wild(s.version)) continue;
          const bool hit = s.has_reference
                               ? (Matches(s.first, action_name) || Matches(s.first, step_name)) &&
                                     Matches(s.reference, ref_name)
                               : Matches(s.first, package_id) || Matches(s.first, action_name) ||
                                     Matches(s.first, step_name);
          if (hit) version = s.version;
        }
        if (!version && sel.default_version) version = sel.default_version;
        if (!version) {
          if (package_id.empty() || package_id.find("#{") != std::string::npos) {
            problems.Problem("The package of action '" + action_name +
                             "' is chosen by a variable; give its version in Packages.");
            continue;
          }
          CUTTLE_TRY(version, LatestPackage(ctx, space, package_id, sel.prerelease));
          if (!version) {
            problems.Problem("No version of the package '" + package_id + "' (action '" +
                             action_name +
                             "') was found in the built-in feed; push one or "
                             "give its version in Packages.");
            continue;
          }
        }
        out.push_back({{"ActionName", action_name},
                       {"StepName", step_name},
                       {"PackageReferenceName", ref_name},
                       {"Version", *version}});
      }
    }
  }
  return out;
}

std::optional<std::string> SelectedVersion(const json& selected, const std::string& action,
                                           const std::string& reference) {
  for (const auto& s : selected) {
    if (core::EqualsIgnoreCase(s.value("ActionName", ""), action) &&
        core::EqualsIgnoreCase(s.value("PackageReferenceName", ""), reference)) {
      return s.value("Version", "");
    }
  }
  return std::nullopt;
}

// --- snapshots ---

// Freezes the project's variables for the release (FreezeProjectVariables); their ids go into the
// release's document.
Result<void> SnapshotVariables(db::Transaction& tx, const std::string& space,
                               const repo::ProjectRow& project, const std::string& owner,
                               json& release_doc) {
  CUTTLE_TRY(auto frozen, FreezeProjectVariables(tx, space, project, owner));
  release_doc["ProjectVariableSetSnapshotId"] = frozen.project_set;
  release_doc["LibraryVariableSetSnapshotIds"] = frozen.library_sets;
  return {};
}

// --- shared reading ---

Error ReleaseChanged(const repo::ReleaseRow& release) {
  return Error::Conflict("The release " + release.version +
                         " was changed by someone else while this edit was made; reload it and "
                         "save again.");
}

Result<repo::ReleaseRow> RouteRelease(ApiContext& ctx, const http::Request& req,
                                      std::string& space) {
  CUTTLE_TRY(space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto release, repo::FindRelease(ctx.db, space, req.Param("id")));
  if (!release) return Fail(Error::NotFound("release", req.Param("id")));
  return *release;
}

http::Response ReleasePage(const http::Request& req, const repo::Page<repo::ReleaseRow>& page,
                           const repo::PageQuery& q) {
  return ListResponse<repo::ReleaseRow>("Release", req, page, q, model::ReleaseJson);
}

// What a release is made from, however the client asked.
struct ReleaseRequest {
  repo::ProjectRow project;
  repo::ChannelRow channel;
  std::optional<std::string> version;
  std::optional<std::string> notes;
  Selection selection;
  bool ignore_channel_rules = false;
};

// Checks the channel's version rules against the selected packages (reference §2.4): each rule
// applies to the packages of the actions it names.
void CheckChannelRules(const repo::ChannelRow& channel, const json& selected, Binder& problems) {
  for (const auto& rule : channel.doc.value("Rules", json::array())) {
    const std::string range = rule.value("VersionRange", "");
    const std::string tag = rule.value("Tag", "");
    for (const auto& ap : rule.value("ActionPackages", json::array())) {
      const std::string action = ap.value("DeploymentAction", "");
      const std::string reference =
          ap.contains("PackageReference") && ap["PackageReference"].is_string()
              ? ap["PackageReference"].get<std::string>()
              : "";
      auto version = SelectedVersion(selected, action, reference);
      if (!version) continue;
      const std::string where = "The package version " + *version + " of action '" + action +
                                "' does not satisfy the rules of the channel '" + channel.name +
                                "'";
      auto parsed = feed::Version::Parse(*version);
      if (!parsed) {
        problems.Problem(where + ": " + parsed.error().message());
        continue;
      }
      auto ok = model::VersionMatchesRule(*parsed, range, tag);
      if (!ok) {
        problems.Problem(where + ": " + ok.error().message());
      } else if (!*ok) {
        problems.Problem(where + " (range '" + range + "', tag '" + tag + "').");
      }
    }
  }
}

Result<repo::ReleaseRow> MakeRelease(ApiContext& ctx, const http::Request& req,
                                     const std::string& space, ReleaseRequest r) {
  Binder problems(json::object());
  CUTTLE_TRY(auto process,
             repo::FindProcess(ctx.db, space, model::DeploymentProcessIdOf(r.project.id)));
  const json steps = process ? process->steps : json::array();
  CUTTLE_TRY(auto selected, SelectPackages(ctx, space, steps, r.selection, problems));
  if (!r.ignore_channel_rules) CheckChannelRules(r.channel, selected, problems);
  CUTTLE_TRY_VOID(problems.Finish("release"));

  repo::ReleaseRow row;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    row = {};
    row.space_id = space;
    row.project_id = r.project.id;
    row.channel_id = r.channel.id;
    if (r.version) {
      row.version = *r.version;
    } else {
      // The donor package's version, else the template.
      const json strategy = r.project.doc.value("VersioningStrategy", json::object());
      const json donor = strategy.value("DonorPackage", json());
      if (donor.is_object() && donor.value("DeploymentAction", "") != "") {
        auto v = SelectedVersion(
            selected, donor.value("DeploymentAction", ""),
            donor.contains("PackageReference") && donor["PackageReference"].is_string()
                ? donor["PackageReference"].get<std::string>()
                : "");
        if (!v) {
          return Fail(Error::InvalidArgument(
              "The versioning strategy takes the version of a package the process does not "
              "select; give the release version explicitly."));
        }
        row.version = *v;
      } else {
        std::string tmpl = strategy.value("Template", "");
        if (tmpl.empty()) tmpl = model::kDefaultVersionTemplate;
        model::VersionContext vc;
        CUTTLE_TRY(vc.last_version, repo::LatestReleaseVersion(tx, r.project.id, std::nullopt));
        CUTTLE_TRY(vc.channel_last_version,
                   repo::LatestReleaseVersion(tx, r.project.id, r.channel.id));
        vc.channel_name = r.channel.name;
        vc.now_ms = core::ToUnixMillis(core::SystemClock::Instance().Now());
        CUTTLE_TRY(row.version, model::ExpandVersionTemplate(tmpl, vc));
      }
    }
    if (row.version.size() > 349) {
      return Fail(Error::InvalidArgument("The release version may be at most 349 characters."));
    }
    json doc = {{"ReleaseNotes", r.notes ? json(*r.notes) : json(nullptr)},
                {"SelectedPackages", selected},
                {"LifecycleId", r.channel.lifecycle_id.value_or(r.project.lifecycle_id)}};
    // The release first (its id owns the frozen variables), then the frozen process (a copy of
    // the live one under its own id) and variables, then the ids in the release's document.
    row.json = doc;
    CUTTLE_TRY(row, repo::InsertRelease(tx, row));
    const std::string process_id =
        process ? process->id : model::DeploymentProcessIdOf(r.project.id);
    CUTTLE_TRY(auto snapshot_id, repo::NextSnapshotId(tx, process_id));
    repo::ProcessRow frozen;
    frozen.id = snapshot_id;
    frozen.space_id = space;
    frozen.owner_id = r.project.id;
    frozen.kind = repo::kDeploymentProcessSnapshot;
    frozen.version = process ? process->version : 0;
    frozen.last_snapshot_id = snapshot_id;
    frozen.steps = steps;
    CUTTLE_TRY_VOID(repo::InsertProcess(tx, frozen));
    if (process) {
      CUTTLE_TRY_VOID(repo::SetProcessSnapshot(tx, process->id, snapshot_id));
    }
    row.json["ProjectDeploymentProcessSnapshotId"] = snapshot_id;
    CUTTLE_TRY_VOID(SnapshotVariables(tx, space, r.project, row.id, row.json));
    CUTTLE_TRY(auto revision, repo::UpdateRelease(tx, row, row.revision, row.version));
    if (!revision) return Fail(Error::Internal("The release " + row.id + " vanished."));
    row.revision = *revision;
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created",
                                "Release " + row.version + " created for " + r.project.name,
                                {row.id, r.project.id, r.channel.id}));
    return {};
  }));
  return row;
}

std::vector<PackageSpec> ParseSpecs(const std::vector<std::string>& packages, Binder& b) {
  std::vector<PackageSpec> out;
  for (const auto& p : packages) {
    auto parts = core::Split(p, ':', false);
    PackageSpec s;
    if (parts.size() == 2) {
      s.first = parts[0];
      s.version = parts[1];
    } else if (parts.size() == 3) {
      s.first = parts[0];
      s.reference = parts[1];
      s.version = parts[2];
      s.has_reference = true;
    } else {
      b.Problem("The package '" + p +
                "' is not in the form PackageOrStep:Version or Step:Reference:Version.");
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<http::Response> ListReleases(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::ReleaseFilter f{space, std::nullopt, std::nullopt, req.Query("searchByVersion")};
  CUTTLE_TRY(auto page, repo::ListReleases(ctx.db, f, q));
  return ReleasePage(req, page, q);
}

Result<http::Response> ListProjectReleases(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, req.Param("projectId")));
  if (!project) return Fail(Error::NotFound("project", req.Param("projectId")));
  repo::ReleaseFilter f{space, project->id, std::nullopt, req.Query("searchByVersion")};
  CUTTLE_TRY(auto page, repo::ListReleases(ctx.db, f, q));
  return ReleasePage(req, page, q);
}

Result<http::Response> GetProjectReleaseByVersion(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, req.Param("projectId")));
  if (!project) return Fail(Error::NotFound("project", req.Param("projectId")));
  CUTTLE_TRY(auto release, repo::FindReleaseByVersion(ctx.db, project->id, req.Param("version")));
  if (!release) return Fail(Error::NotFound("release", req.Param("version")));
  return http::Response::Json(200, model::ReleaseJson(*release));
}

Result<http::Response> ListChannelReleases(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto channel, repo::FindChannel(ctx.db, space, req.Param("channelId")));
  if (!channel) return Fail(Error::NotFound("channel", req.Param("channelId")));
  repo::ReleaseFilter f{space, std::nullopt, channel->id, req.Query("searchByVersion")};
  CUTTLE_TRY(auto page, repo::ListReleases(ctx.db, f, q));
  return ReleasePage(req, page, q);
}

Result<http::Response> GetRelease(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto release, RouteRelease(ctx, req, space));
  return http::Response::Json(200, model::ReleaseJson(release));
}

// POST /releases: the legacy resource create (octopus-deploy 6.3.1): ProjectId, Version,
// ChannelId, ReleaseNotes, SelectedPackages.
Result<http::Response> CreateRelease(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const std::string project_ref = b.RequiredString("ProjectId");
  const std::string version = b.RequiredString("Version");
  const std::string channel_ref = b.String("ChannelId");
  ReleaseRequest r;
  r.notes = b.OptionalString("ReleaseNotes");
  for (const auto& s : b.Array("SelectedPackages")) {
    if (s.is_object()) r.selection.selected.push_back(s);
  }
  r.ignore_channel_rules =
      b.Bool("IgnoreChannelRules") ||
      core::EqualsIgnoreCase(req.Query("ignoreChannelRules").value_or(""), "true");
  CUTTLE_TRY_VOID(b.Finish("release"));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, project_ref));
  if (!project) {
    return Fail(
        Error::InvalidArgument("The project '" + project_ref + "' does not exist in this space."));
  }
  CUTTLE_TRY(auto channel, ResolveChannel(ctx, space, *project, channel_ref));
  if (!channel) {
    return Fail(Error::InvalidArgument("The channel '" + channel_ref +
                                       "' is not a channel of the project " + project->name + "."));
  }
  r.project = std::move(*project);
  r.channel = std::move(*channel);
  r.version = version;
  CUTTLE_TRY(auto row, MakeRelease(ctx, req, space, std::move(r)));
  return http::Response::Json(201, model::ReleaseJson(row));
}

// POST /releases/create/v1: the api-client's command.
Result<http::Response> CreateReleaseV1(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const std::string project_ref = b.RequiredString("ProjectName");
  ReleaseRequest r;
  r.version = b.OptionalString("ReleaseVersion");
  if (r.version && core::Trim(*r.version).empty()) r.version.reset();
  if (r.version) r.version = std::string(core::Trim(*r.version));
  r.selection.default_version = b.OptionalString("PackageVersion");
  if (r.selection.default_version && r.selection.default_version->empty()) {
    r.selection.default_version.reset();
  }
  r.selection.specs = ParseSpecs(b.StringList("Packages"), b);
  r.selection.prerelease = b.Bool("PackagePrerelease");
  const std::string channel_ref = b.String("ChannelName");
  r.notes = b.OptionalString("ReleaseNotes");
  const bool ignore_existing = b.Bool("IgnoreIfAlreadyExists");
  r.ignore_channel_rules = b.Bool("IgnoreChannelRules");
  if (b.Has("GitRef") || b.Has("GitCommit")) {
    b.Problem("Version-controlled projects are not supported: GitRef and GitCommit must be empty.");
  }
  CUTTLE_TRY_VOID(b.Finish("release"));
  CUTTLE_TRY(auto project, ResolveProject(ctx, space, project_ref));
  if (!project) {
    return Fail(
        Error::InvalidArgument("The project '" + project_ref + "' does not exist in this space."));
  }
  if (r.version && ignore_existing) {
    CUTTLE_TRY(auto existing, repo::FindReleaseByVersion(ctx.db, project->id, *r.version));
    if (existing) {
      return http::Response::Json(
          200, {{"ReleaseId", existing->id}, {"ReleaseVersion", existing->version}});
    }
  }
  CUTTLE_TRY(auto channel, ResolveChannel(ctx, space, *project, channel_ref));
  if (!channel) {
    return Fail(Error::InvalidArgument("The channel '" + channel_ref +
                                       "' is not a channel of the project " + project->name + "."));
  }
  r.project = std::move(*project);
  r.channel = std::move(*channel);
  auto row = MakeRelease(ctx, req, space, std::move(r));
  if (!row) {
    // The command answers a duplicate version with 400 (reference §2.7).
    if (row.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(Error::InvalidArgument(row.error().message()));
    }
    return Fail(row.error());
  }
  return http::Response::Json(201, {{"ReleaseId", row->id}, {"ReleaseVersion", row->version}});
}

// PUT /releases/{id}: the notes (and, as in Octopus, the version) may change; the snapshot not.
Result<http::Response> UpdateRelease(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto release, RouteRelease(ctx, req, space));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  auto notes = b.OptionalString("ReleaseNotes");
  const std::string version = b.RequiredString("Version");
  CUTTLE_TRY_VOID(b.Finish("release"));
  // Written only if nobody saved the release since it was read above (otherwise their change
  // would be silently undone).
  repo::ReleaseRow edited = release;
  edited.json["ReleaseNotes"] = notes ? json(*notes) : json(nullptr);
  edited.version = version;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto revision, repo::UpdateRelease(tx, edited, release.revision, release.version));
    if (!revision) return Fail(ReleaseChanged(release));
    if (version != release.version) {
      CUTTLE_TRY_VOID(repo::SetDashboardReleaseVersion(tx, release.id, version));
    }
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified", "Release " + version + " modified",
                                {release.id, release.project_id}));
    return {};
  }));
  CUTTLE_TRY(auto updated, repo::FindRelease(ctx.db, space, release.id));
  if (!updated) return Fail(Error::NotFound("release", release.id));
  return http::Response::Json(200, model::ReleaseJson(*updated));
}

Result<http::Response> DeleteRelease(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto release, RouteRelease(ctx, req, space));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto active, tx.Execute("SELECT t.id FROM deployments d JOIN server_tasks t ON "
                                       "t.id = d.task_id WHERE d.release_id = $1 AND t.state IN "
                                       "('Queued', 'Executing', 'Cancelling')",
                                       {release.id}));
    if (!active.empty()) {
      return Fail(Error::InvalidArgument("The release " + release.version +
                                         " has a deployment in progress (" +
                                         active.front().GetString(0) + "); cancel it first."));
    }
    CUTTLE_TRY_VOID(repo::DeleteDeploymentsOfRelease(tx, release.id));
    CUTTLE_TRY_VOID(repo::DeleteRelease(tx, release.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted",
                                "Release " + release.version + " deleted",
                                {release.id, release.project_id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

Result<void> ResnapshotReleaseVariables(db::Transaction& tx, const http::Request& req,
                                        const std::string& space, const repo::ProjectRow& project,
                                        const repo::ReleaseRow& release) {
  repo::ReleaseRow edited = release;
  CUTTLE_TRY_VOID(SnapshotVariables(tx, space, project, release.id, edited.json));
  CUTTLE_TRY(auto revision, repo::UpdateRelease(tx, edited, release.revision, release.version));
  if (!revision) return Fail(ReleaseChanged(release));
  CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                              "Variables of release " + release.version + " re-snapshotted",
                              {release.id, release.project_id}));
  return {};
}

Result<http::Response> SnapshotReleaseVariables(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto release, RouteRelease(ctx, req, space));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, release.project_id));
  if (!project) return Fail(Error::NotFound("project", release.project_id));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    return ResnapshotReleaseVariables(tx, req, space, *project, release);
  }));
  CUTTLE_TRY(auto updated, repo::FindRelease(ctx.db, space, release.id));
  return http::Response::Json(200, model::ReleaseJson(*updated));
}

namespace {

struct Progress {
  repo::ReleaseRow release;
  repo::ProjectRow project;
  repo::ChannelRow channel;
  Lifecycle lifecycle;
  std::set<std::string> succeeded;
  model::Promotion promotion;
};

Result<Progress> LoadProgress(ApiContext& ctx, const http::Request& req, std::string& space) {
  Progress p;
  CUTTLE_TRY(p.release, RouteRelease(ctx, req, space));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, p.release.project_id));
  if (!project) return Fail(Error::NotFound("project", p.release.project_id));
  p.project = std::move(*project);
  CUTTLE_TRY(auto channel, repo::FindChannel(ctx.db, space, p.release.channel_id));
  if (!channel) return Fail(Error::NotFound("channel", p.release.channel_id));
  p.channel = std::move(*channel);
  CUTTLE_TRY(p.lifecycle, LoadLifecycle(ctx, space, p.project, p.channel));
  CUTTLE_TRY(p.succeeded, repo::SucceededEnvironments(ctx.db, p.release.id));
  p.promotion = model::EvaluatePromotion(p.lifecycle.phases, p.succeeded);
  return p;
}

}  // namespace

Result<http::Response> GetReleaseProgression(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto p, LoadProgress(ctx, req, space));
  CUTTLE_TRY(auto items, repo::ReleaseDeploymentItems(ctx.db, p.release.id));
  json phases = json::array();
  for (size_t i = 0; i < p.lifecycle.phases.size(); ++i) {
    const auto& phase = p.lifecycle.phases[i];
    const auto& status = p.promotion.phases[i];
    json deployments = json::array();
    for (const auto& item : items) {
      if (std::find(phase.environment_ids.begin(), phase.environment_ids.end(),
                    item.environment_id) != phase.environment_ids.end()) {
        deployments.push_back(model::DashboardItemJson(item, true));
      }
    }
    json out = json::object();
    out["Id"] = p.lifecycle.phase_ids[i];
    out["Name"] = phase.name;
    out["Blocked"] = false;
    out["Progress"] = status.complete ? "Complete" : status.deployable ? "Current" : "Pending";
    out["Deployments"] = deployments;
    out["EnvironmentIds"] = phase.environment_ids;
    out["MinimumEnvironmentsBeforePromotion"] = phase.minimum_environments_before_promotion;
    out["IsOptionalPhase"] = phase.is_optional;
    out["DeployedEnvironments"] = status.deployed;
    out["RequiredEnvironments"] = status.required;
    phases.push_back(std::move(out));
  }
  json next = json::array();
  for (const auto& env : p.promotion.deployable) {
    if (!p.succeeded.count(env)) next.push_back(env);
  }
  return http::Response::Json(200, {{"Phases", phases},
                                    {"NextDeployments", next},
                                    {"NextDeploymentsMinimumRequired", next.empty() ? 0 : 1},
                                    {"LifecycleId", p.lifecycle.id},
                                    {"Links", json::object()}});
}

Result<http::Response> GetReleaseDeploymentTemplate(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto p, LoadProgress(ctx, req, space));
  json promote = json::array();
  for (const auto& env_id : p.promotion.deployable) {
    CUTTLE_TRY(auto env, repo::FindEnvironment(ctx.db, space, env_id));
    if (env) promote.push_back({{"Id", env->id}, {"Name", env->name}});
  }
  CUTTLE_TRY(auto process,
             repo::FindProcess(ctx.db, space, model::DeploymentProcessIdOf(p.project.id)));
  const bool modified =
      process && process->last_snapshot_id.value_or("") !=
                     p.release.json.value("ProjectDeploymentProcessSnapshotId", "");
  return http::Response::Json(200, {{"PromoteTo", promote},
                                    {"TenantPromotions", json::array()},
                                    {"IsDeploymentProcessModified", modified},
                                    {"IsVariableSetModified", false},
                                    {"IsLibraryVariableSetModified", false},
                                    {"DeploymentNotes", nullptr}});
}

Result<http::Response> ListReleaseDeployments(ApiContext& ctx, http::Request& req) {
  std::string space;
  CUTTLE_TRY(auto release, RouteRelease(ctx, req, space));
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::DeploymentFilter f;
  f.space_id = space;
  f.releases = {release.id};
  CUTTLE_TRY(auto page, repo::ListDeployments(ctx.db, f, q));
  return ListResponse<repo::DeploymentRow>("Deployment", req, page, q, model::DeploymentJson);
}

}  // namespace cuttle::api
