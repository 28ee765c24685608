// Project groups: /api/{spaceId}/projectgroups (and the default space's /api/projectgroups).
#include "api/handlers.h"
#include "api/kit.h"
#include "model/document.h"
#include "model/project_group.h"
#include "repo/projects.h"

namespace cuttle::api {

namespace {

void BindProjectGroup(Binder& b, const json& body, bool create, repo::ProjectGroupRow& g) {
  if (create || b.Find("Name") != nullptr) g.name = b.RequiredString("Name");
  if (b.Has("Description")) g.description = b.String("Description");
  if (b.Find("EnvironmentIds") != nullptr) g.environment_ids = b.StringList("EnvironmentIds");
  if (b.Find("RetentionPolicyId") != nullptr) {
    g.retention_policy_id = b.OptionalString("RetentionPolicyId");
  }
  g.extra = model::MergeExtras(g.extra, model::Extras(body, model::kProjectGroupFields));
}

Result<repo::ProjectGroupRow> FindOr404(ApiContext& ctx, const std::string& space,
                                        const std::string& id) {
  CUTTLE_TRY(auto g, repo::FindProjectGroup(ctx.db, space, id));
  if (!g) return Fail(Error::NotFound("project group", id));
  return std::move(*g);
}

}  // namespace

Result<http::Response> ListProjectGroups(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListProjectGroups(ctx.db, space, q));
  return ListResponse<repo::ProjectGroupRow>("ProjectGroup", req, page, q, model::ProjectGroupJson);
}

Result<http::Response> ListAllProjectGroups(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllProjectGroups(ctx.db, space, q));
  return AllResponse<repo::ProjectGroupRow>(rows, model::ProjectGroupJson);
}

Result<http::Response> GetProjectGroup(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto g, FindOr404(ctx, space, req.Param("id")));
  return http::Response::Json(200, model::ProjectGroupJson(g));
}

Result<http::Response> CreateProjectGroup(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  repo::ProjectGroupRow g;
  g.space_id = space;
  BindProjectGroup(b, body, true, g);
  CUTTLE_TRY_VOID(b.Finish("project group"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    g.id.clear();
    CUTTLE_TRY(auto saved, repo::InsertProjectGroup(tx, g));
    g.id = saved.id;
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created",
                                "Project group " + g.name + " was created.", {g.id}));
    return {};
  }));
  return http::Response::Json(201, model::ProjectGroupJson(g));
}

Result<http::Response> ModifyProjectGroup(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto g, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  BindProjectGroup(b, body, false, g);
  CUTTLE_TRY_VOID(b.Finish("project group"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool updated, repo::UpdateProjectGroup(tx, g));
    if (!updated) return Fail(Error::NotFound("project group", g.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "Project group " + g.name + " was modified.", {g.id}));
    return {};
  }));
  return http::Response::Json(200, model::ProjectGroupJson(g));
}

Result<http::Response> DeleteProjectGroup(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto g, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteProjectGroup(tx, space, g.id));
    if (!deleted) return Fail(Error::NotFound("project group", g.id));
    CUTTLE_TRY(auto project, repo::ProjectNaming(tx, "project_group_id", g.id));
    if (project) {
      return Fail(Error::Conflict("The project group '" + g.name + "' still holds the project '" +
                                  *project + "'."));
    }
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted",
                                "Project group " + g.name + " was deleted.", {g.id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
