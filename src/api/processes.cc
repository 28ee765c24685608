// Deployment processes (reference-octopus-api.md §2.5): GET and PUT, by id or through the project.
// A PUT names the Version it read; the save is one conditional UPDATE on that version, so of two
// saves racing through two nodes exactly one wins and the other gets 409 with nothing changed.
#include "repo/processes.h"

#include "api/handlers.h"
#include "api/kit.h"
#include "api/model_common.h"
#include "core/strings.h"
#include "model/process.h"
#include "model/project.h"
#include "repo/projects.h"

namespace cuttle::api {

namespace {

using nlohmann::json;

// A live process, or (when `snapshots`) a release's frozen copy too.
Result<repo::ProcessRow> FindDeploymentProcess(ApiContext& ctx, const std::string& space,
                                               const std::string& id, bool snapshots) {
  CUTTLE_TRY(auto p, repo::FindProcess(ctx.db, space, id));
  if (!p || !(p->kind == repo::kDeploymentProcess ||
              (snapshots && p->kind == repo::kDeploymentProcessSnapshot))) {
    return Fail(Error::NotFound("deployment process", id));
  }
  return std::move(*p);
}

Result<std::string> ProjectProcessId(ApiContext& ctx, const std::string& space,
                                     const std::string& project_id_or_slug) {
  CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, project_id_or_slug));
  if (!project) return Fail(Error::NotFound("project", project_id_or_slug));
  return model::DeploymentProcessIdOf(project->id);
}

}  // namespace

Result<json> SaveProcess(ApiContext& ctx, http::Request& req, const std::string& space,
                         const std::string& process_id, std::string_view what) {
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const bool has_version = b.Has("Version");
  const int64_t expected = b.Int("Version");
  if (!has_version) {
    b.Problem(
        "The Version field is required: send back the Version you read, so that a save "
        "made since is not overwritten.");
  }
  std::vector<std::string> problems;
  model::ProcessReferences refs;
  const json* steps_field = b.Find("Steps");
  json steps = model::NormalizeSteps(steps_field ? *steps_field : json::array(), problems, refs);
  for (auto& p : problems) b.Problem(std::move(p));
  repo::ProcessRow saved;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    Binder checks = b;  // a retried transaction starts again from the body's own problems
    CUTTLE_TRY(auto current, repo::FindProcess(tx, space, process_id));
    if (!current || current->kind == repo::kDeploymentProcessSnapshot) {
      return Fail(Error::NotFound(std::string(what), process_id));
    }
    CUTTLE_TRY(auto missing_envs,
               repo::MissingInSpace(tx, "environments", space,
                                    {refs.environments.begin(), refs.environments.end()}));
    for (const auto& id : missing_envs) {
      checks.Problem("The environment '" + id + "' does not exist in " + space + ".");
    }
    if (!refs.channels.empty()) {
      repo::Where w;
      w.Add("space_id = {}", space).Add("project_id = {}", current->owner_id);
      std::vector<std::string> channels(refs.channels.begin(), refs.channels.end());
      w.InIgnoreCase("id", channels);
      CUTTLE_TRY(auto rs, tx.Execute("SELECT lower(id) FROM channels" + w.Sql(), w.params()));
      std::set<std::string> found;
      for (const auto& r : rs.rows) found.insert(r.GetString(0));
      for (const auto& id : channels) {
        if (!found.contains(core::ToLower(id))) {
          checks.Problem("The channel '" + id + "' is not a channel of this project.");
        }
      }
    }
    CUTTLE_TRY_VOID(checks.Finish(what));
    repo::ProcessRow next = *current;
    next.steps = steps;
    CUTTLE_TRY(auto version, repo::UpdateProcess(tx, next, expected));
    if (!version) {
      return Fail(Error::Conflict("The " + std::string(what) +
                                  " was changed by someone else after you read it (you sent "
                                  "version " +
                                  std::to_string(expected) +
                                  "; reload it and apply your changes again)."));
    }
    next.version = *version;
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "The " + std::string(what) + " " + next.id + " was modified.",
                                {next.id, next.owner_id}));
    saved = std::move(next);
    return {};
  }));
  return model::ProcessJson(saved);
}

Result<http::Response> GetDeploymentProcess(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto p, FindDeploymentProcess(ctx, space, req.Param("id"), /*snapshots=*/true));
  return http::Response::Json(200, model::ProcessJson(p));
}

Result<http::Response> GetProjectDeploymentProcess(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto id, ProjectProcessId(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto p, FindDeploymentProcess(ctx, space, id, /*snapshots=*/false));
  return http::Response::Json(200, model::ProcessJson(p));
}

Result<http::Response> UpdateDeploymentProcess(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto p, FindDeploymentProcess(ctx, space, req.Param("id"), /*snapshots=*/true));
  if (p.kind == repo::kDeploymentProcessSnapshot) {
    return Fail(Error::InvalidArgument("The deployment process " + p.id +
                                       " is a release's snapshot: it cannot be changed."));
  }
  CUTTLE_TRY(auto saved, SaveProcess(ctx, req, space, p.id, "deployment process"));
  return http::Response::Json(200, std::move(saved));
}

Result<http::Response> UpdateProjectDeploymentProcess(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto id, ProjectProcessId(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto saved, SaveProcess(ctx, req, space, id, "deployment process"));
  return http::Response::Json(200, std::move(saved));
}

}  // namespace cuttle::api
