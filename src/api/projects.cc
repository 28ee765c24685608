// Projects and channels (reference-octopus-api.md §2.4). Creating a project creates its deployment
// process, variable set and default channel in the same transaction; deleting it deletes them.
#include "repo/projects.h"

#include "api/handlers.h"
#include "api/kit.h"
#include "api/model_common.h"
#include "core/ids.h"
#include "core/strings.h"
#include "model/channel.h"
#include "model/project.h"
#include "repo/channels.h"
#include "repo/processes.h"
#include "repo/settings.h"
#include "repo/variable_sets.h"

namespace cuttle::api {

namespace {

using nlohmann::json;

const std::vector<std::string> kTenantedModes = {"Untenanted", "TenantedOrUntenanted", "Tenanted"};
const std::vector<std::string> kGuidedFailureModes = {"EnvironmentDefault", "Off", "On"};

// The project a request describes, bound from `body` (for a PUT: the stored project with the
// body laid over it). References are checked in `tx`; every problem goes to `b`.
Result<repo::ProjectRow> BindProject(db::Transaction& tx, const std::string& space_id, Binder& b) {
  repo::ProjectRow p;
  p.space_id = space_id;
  p.name = b.RequiredString("Name");
  p.project_group_id = b.RequiredString("ProjectGroupId");
  p.lifecycle_id = b.RequiredString("LifecycleId");
  auto slug = b.OptionalString("Slug");
  p.slug = model::Slugify(slug && !core::Trim(*slug).empty() ? *slug : p.name);
  p.included_library_variable_set_ids = b.StringList("IncludedLibraryVariableSetIds");

  json& d = p.doc;
  d["Description"] = b.String("Description");
  d["IsDisabled"] = b.Bool("IsDisabled");
  json versioning = b.Object("VersioningStrategy");
  Binder vb(versioning);
  d["VersioningStrategy"] = {
      {"Template", vb.String("Template", model::kDefaultVersioningTemplate)},
      {"DonorPackage",
       vb.Object("DonorPackage").empty() ? json(nullptr) : vb.Object("DonorPackage")},
      {"DonorPackageStepId", vb.OptionalString("DonorPackageStepId")
                                 ? json(*vb.OptionalString("DonorPackageStepId"))
                                 : json(nullptr)}};
  if (d["VersioningStrategy"]["Template"] == "" &&
      d["VersioningStrategy"]["DonorPackage"].is_null()) {
    d["VersioningStrategy"]["Template"] = model::kDefaultVersioningTemplate;
  }
  d["TenantedDeploymentMode"] = b.Enum("TenantedDeploymentMode", kTenantedModes, "Untenanted");
  d["DefaultGuidedFailureMode"] =
      b.Enum("DefaultGuidedFailureMode", kGuidedFailureModes, "EnvironmentDefault");
  for (const char* object : {"ReleaseCreationStrategy", "ProjectConnectivityPolicy"}) {
    if (b.Has(object)) d[object] = b.Object(object);
  }
  for (const char* list : {"Templates", "AutoDeployReleaseOverrides", "ProjectTags"}) {
    if (b.Has(list)) d[list] = b.Array(list);
  }
  d["AutoCreateRelease"] = b.Bool("AutoCreateRelease");
  d["DiscreteChannelRelease"] = b.Bool("DiscreteChannelRelease");
  d["DefaultToSkipIfAlreadyInstalled"] = b.Bool("DefaultToSkipIfAlreadyInstalled");
  if (auto notes = b.OptionalString("ReleaseNotesTemplate")) d["ReleaseNotesTemplate"] = *notes;

  if (!p.project_group_id.empty()) {
    CUTTLE_TRY(auto missing,
               repo::MissingInSpace(tx, "project_groups", space_id, {p.project_group_id}));
    if (!missing.empty()) {
      b.Problem("The project group '" + p.project_group_id + "' does not exist in " + space_id +
                ".");
    }
  }
  if (!p.lifecycle_id.empty()) {
    CUTTLE_TRY(auto missing, repo::MissingInSpace(tx, "lifecycles", space_id, {p.lifecycle_id}));
    if (!missing.empty()) {
      b.Problem("The lifecycle '" + p.lifecycle_id + "' does not exist in " + space_id + ".");
    }
  }
  CUTTLE_TRY(auto missing_sets, repo::MissingInSpace(tx, "library_variable_sets", space_id,
                                                     p.included_library_variable_set_ids));
  for (const auto& id : missing_sets) {
    b.Problem("The library variable set '" + id + "' does not exist in " + space_id + ".");
  }
  return p;
}

// Octopus answers a taken name with a 400 naming it.
Result<void> CheckUnique(db::Transaction& tx, const repo::ProjectRow& p) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT id, lower(name) = lower($3) FROM projects WHERE "
                                 "space_id = $1 AND id <> $2 AND (lower(name) = lower($3) OR "
                                 "slug = $4)",
                                 {p.space_id, p.id, p.name, p.slug}));
  for (const auto& r : rs.rows) {
    return Fail(Error::Invalid(
        "The project could not be saved.",
        {r.GetBool(1) ? "A project with the name '" + p.name + "' already exists in this space."
                      : "A project with the slug '" + p.slug + "' already exists in this space."}));
  }
  return {};
}

repo::ChannelRow DefaultChannel(const std::string& id, const repo::ProjectRow& p) {
  return repo::ChannelRow{
      id,
      p.space_id,
      p.id,
      "Default",
      std::nullopt,
      true,
      json{{"Description", ""}, {"Rules", json::array()}, {"TenantTags", json::array()}}};
}

}  // namespace

// --- projects ---

Result<http::Response> ListProjects(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::ProjectFilter f{space, std::nullopt, req.Query("name")};
  CUTTLE_TRY(auto page, repo::ListProjects(ctx.db, f, q));
  return ListResponse<repo::ProjectRow>("Project", req, page, q, model::ProjectJson);
}

Result<http::Response> ListAllProjects(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllProjects(ctx.db, {space, std::nullopt, std::nullopt}, q));
  return AllResponse<repo::ProjectRow>(rows, model::ProjectJson);
}

Result<http::Response> ListProjectGroupProjects(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto missing,
             repo::MissingInSpace(ctx.db, "project_groups", space, {req.Param("id")}));
  if (!missing.empty()) return Fail(Error::NotFound("project group", req.Param("id")));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListProjects(ctx.db, {space, req.Param("id"), std::nullopt}, q));
  return ListResponse<repo::ProjectRow>("Project", req, page, q, model::ProjectJson);
}

Result<http::Response> GetProject(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, req.Param("id")));
  if (!project) return Fail(Error::NotFound("project", req.Param("id")));
  return http::Response::Json(200, model::ProjectJson(*project));
}

Result<http::Response> CreateProject(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  repo::ProjectRow created;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    Binder b(body);
    CUTTLE_TRY(auto p, BindProject(tx, space, b));
    CUTTLE_TRY_VOID(b.Finish("project"));
    CUTTLE_TRY(p.id, repo::NextId(tx, "Projects"));
    // A slug derived from the name may be taken by another name's slug: number it.
    const bool slug_given = b.Has("Slug");
    const std::string base_slug = p.slug;
    for (int n = 2; !slug_given; ++n) {
      CUTTLE_TRY(auto rs, tx.Execute("SELECT 1 FROM projects WHERE space_id = $1 AND slug = $2",
                                     {space, p.slug}));
      if (rs.empty()) break;
      p.slug = base_slug + "-" + std::to_string(n);
    }
    CUTTLE_TRY_VOID(CheckUnique(tx, p));
    CUTTLE_TRY_VOID(repo::InsertProject(tx, p));
    CUTTLE_TRY_VOID(
        repo::InsertProcess(tx, {model::DeploymentProcessIdOf(p.id), space, p.id,
                                 repo::kDeploymentProcess, 0, std::nullopt, json::array()}));
    CUTTLE_TRY_VOID(
        repo::InsertVariableSet(tx, {model::VariableSetIdOf(p.id), space, p.id, 0, json::array()}));
    CUTTLE_TRY(auto channel_id, repo::NextId(tx, "Channels"));
    CUTTLE_TRY_VOID(repo::InsertChannel(tx, DefaultChannel(channel_id, p)));
    CUTTLE_TRY_VOID(RecordEvent(
        tx, req, space, "Created", "Project " + p.name + " was created.",
        {p.id, model::DeploymentProcessIdOf(p.id), model::VariableSetIdOf(p.id), channel_id}));
    created = std::move(p);
    return {};
  }));
  return http::Response::Json(201, model::ProjectJson(created));
}

Result<http::Response> UpdateProject(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  repo::ProjectRow updated;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto current, repo::FindProject(tx, space, req.Param("id")));
    if (!current) return Fail(Error::NotFound("project", req.Param("id")));
    // A PUT echoes the whole resource; what it leaves out keeps its stored value.
    json merged = model::ProjectJson(*current);
    OverlayJson(merged, body);
    Binder b(merged);
    CUTTLE_TRY(auto p, BindProject(tx, space, b));
    CUTTLE_TRY_VOID(b.Finish("project"));
    p.id = current->id;
    CUTTLE_TRY_VOID(CheckUnique(tx, p));
    CUTTLE_TRY_VOID(repo::UpdateProject(tx, p));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, space, "Modified", "Project " + p.name + " was modified.", {p.id}));
    updated = std::move(p);
    return {};
  }));
  return http::Response::Json(200, model::ProjectJson(updated));
}

Result<http::Response> DeleteProject(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto p, repo::FindProject(tx, space, req.Param("id")));
    if (!p) return Fail(Error::NotFound("project", req.Param("id")));
    // Releases, deployments and runbooks of the project belong to the release model
    // (release-model): it deletes them here, in this transaction, before what they refer to.
    CUTTLE_TRY_VOID(DeleteProjectDependents(tx, *p));
    CUTTLE_TRY_VOID(repo::DeleteReferencesOf(
        tx, {model::DeploymentProcessIdOf(p->id), model::VariableSetIdOf(p->id)}));
    CUTTLE_TRY_VOID(repo::DeleteProcessesOf(tx, p->id));
    CUTTLE_TRY_VOID(repo::DeleteVariableSetsOf(tx, p->id));
    CUTTLE_TRY_VOID(repo::DeleteProjectChannels(tx, p->id));
    CUTTLE_TRY_VOID(repo::DeleteProject(tx, p->id));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, space, "Deleted", "Project " + p->name + " was deleted.", {p->id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

// --- channels ---

namespace {

Result<repo::ChannelRow> BindChannel(db::Transaction& tx, const std::string& space_id, Binder& b) {
  repo::ChannelRow c;
  c.space_id = space_id;
  c.name = b.RequiredString("Name");
  c.project_id = b.RequiredString("ProjectId");
  c.lifecycle_id = b.OptionalString("LifecycleId");
  if (c.lifecycle_id && core::Trim(*c.lifecycle_id).empty()) c.lifecycle_id.reset();
  c.is_default = b.Bool("IsDefault");
  c.doc["Description"] = b.String("Description");
  c.doc["TenantTags"] = b.StringList("TenantTags");
  json rules = b.Array("Rules");
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string place = "Rules[" + std::to_string(i) + "]";
    json& rule = rules[i];
    if (!rule.is_object()) {
      b.Problem(place + " must be an object.");
      continue;
    }
    Binder rb(rule);
    auto id = rb.String("Id");
    auto range = rb.String("VersionRange");
    auto tag = rb.String("Tag");
    json packages = rb.Array("ActionPackages");
    if (!rb.ok()) b.Problem(place + ": Id, VersionRange and Tag must be strings.");
    if (auto problem = model::RuleProblem(range, tag)) b.Problem(place + ": " + *problem);
    json normalized_packages = json::array();
    for (const auto& ap : packages) {
      if (!ap.is_object()) {
        b.Problem(place + ".ActionPackages must be a list of objects.");
        continue;
      }
      Binder pb(ap);
      normalized_packages.push_back(
          {{"DeploymentAction", pb.RequiredString("DeploymentAction")},
           {"PackageReference", pb.OptionalString("PackageReference")
                                    ? json(*pb.OptionalString("PackageReference"))
                                    : json(nullptr)}});
      if (!pb.ok()) b.Problem(place + ".ActionPackages: each needs a DeploymentAction.");
    }
    rule = {{"Id", id.empty() ? core::NewUuid() : id},
            {"VersionRange", range},
            {"Tag", tag},
            {"ActionPackages", normalized_packages}};
  }
  c.doc["Rules"] = rules;
  if (!c.project_id.empty()) {
    CUTTLE_TRY(auto project, repo::FindProject(tx, space_id, c.project_id));
    if (!project) {
      b.Problem("The project '" + c.project_id + "' does not exist in " + space_id + ".");
    } else {
      c.project_id = project->id;
    }
  }
  if (c.lifecycle_id) {
    CUTTLE_TRY(auto missing, repo::MissingInSpace(tx, "lifecycles", space_id, {*c.lifecycle_id}));
    if (!missing.empty()) {
      b.Problem("The lifecycle '" + *c.lifecycle_id + "' does not exist in " + space_id + ".");
    }
  }
  return c;
}

Result<void> CheckChannelName(db::Transaction& tx, const repo::ChannelRow& c) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT 1 FROM channels WHERE project_id = $1 AND id <> $2 AND "
                                 "lower(name) = lower($3)",
                                 {c.project_id, c.id, c.name}));
  if (!rs.empty()) {
    return Fail(Error::Invalid(
        "The channel could not be saved.",
        {"A channel with the name '" + c.name + "' already exists in this project."}));
  }
  return {};
}

}  // namespace

Result<http::Response> ListChannels(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListChannels(ctx.db, {space, std::nullopt}, q));
  return ListResponse<repo::ChannelRow>("Channel", req, page, q, model::ChannelJson);
}

Result<http::Response> ListAllChannels(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllChannels(ctx.db, {space, std::nullopt}, q));
  return AllResponse<repo::ChannelRow>(rows, model::ChannelJson);
}

Result<http::Response> ListProjectChannels(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, req.Param("id")));
  if (!project) return Fail(Error::NotFound("project", req.Param("id")));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListChannels(ctx.db, {space, project->id}, q));
  return ListResponse<repo::ChannelRow>("Channel", req, page, q, model::ChannelJson);
}

Result<http::Response> GetChannel(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto c, repo::FindChannel(ctx.db, space, req.Param("id")));
  if (!c) return Fail(Error::NotFound("channel", req.Param("id")));
  return http::Response::Json(200, model::ChannelJson(*c));
}

Result<http::Response> CreateChannel(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  repo::ChannelRow created;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    Binder b(body);
    CUTTLE_TRY(auto c, BindChannel(tx, space, b));
    CUTTLE_TRY_VOID(b.Finish("channel"));
    CUTTLE_TRY(c.id, repo::NextId(tx, "Channels"));
    CUTTLE_TRY_VOID(CheckChannelName(tx, c));
    if (c.is_default) CUTTLE_TRY_VOID(repo::ClearOtherDefaults(tx, c.project_id, c.id));
    CUTTLE_TRY_VOID(repo::InsertChannel(tx, c));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created", "Channel " + c.name + " was created.",
                                {c.id, c.project_id}));
    created = std::move(c);
    return {};
  }));
  return http::Response::Json(201, model::ChannelJson(created));
}

Result<http::Response> UpdateChannel(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  repo::ChannelRow updated;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto current, repo::FindChannel(tx, space, req.Param("id")));
    if (!current) return Fail(Error::NotFound("channel", req.Param("id")));
    json merged = model::ChannelJson(*current);
    OverlayJson(merged, body);
    Binder b(merged);
    CUTTLE_TRY(auto c, BindChannel(tx, space, b));
    if (!core::EqualsIgnoreCase(c.project_id, current->project_id)) {
      b.Problem("A channel cannot move to another project.");
    }
    if (current->is_default && !c.is_default) {
      b.Problem(
          "A project always has a default channel: make another channel the default "
          "instead.");
    }
    CUTTLE_TRY_VOID(b.Finish("channel"));
    c.id = current->id;
    c.project_id = current->project_id;
    CUTTLE_TRY_VOID(CheckChannelName(tx, c));
    if (c.is_default) CUTTLE_TRY_VOID(repo::ClearOtherDefaults(tx, c.project_id, c.id));
    CUTTLE_TRY_VOID(repo::UpdateChannel(tx, c));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified", "Channel " + c.name + " was modified.",
                                {c.id, c.project_id}));
    updated = std::move(c);
    return {};
  }));
  return http::Response::Json(200, model::ChannelJson(updated));
}

Result<http::Response> DeleteChannel(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto c, repo::FindChannel(tx, space, req.Param("id")));
    if (!c) return Fail(Error::NotFound("channel", req.Param("id")));
    if (c->is_default) {
      return Fail(Error::InvalidArgument(
          "The default channel of a project cannot be deleted: make another channel the default "
          "first."));
    }
    // Releases in this channel belong to the release model (release-model): it refuses or
    // deletes here, in this transaction.
    CUTTLE_TRY_VOID(DeleteChannelDependents(tx, *c));
    CUTTLE_TRY_VOID(repo::DeleteChannel(tx, c->id));
    CUTTLE_TRY(auto naming, repo::DocumentNaming(tx, c->id));
    if (naming) {
      return Fail(Error::Conflict("The channel '" + c->name + "' is still named by " + *naming +
                                  " (an action's or a variable's channel scope)."));
    }
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted", "Channel " + c->name + " was deleted.",
                                {c->id, c->project_id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
