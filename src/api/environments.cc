// Environments: /api/{spaceId}/environments (and the default space's /api/environments).
#include "api/handlers.h"
#include "api/kit.h"
#include "core/json.h"
#include "model/document.h"
#include "model/environment.h"

namespace cuttle::api {

namespace {

// Reads the body's fields over `env` (a new environment's defaults, or the stored one on PUT:
// a property the body leaves out keeps its value). Name is required on create only.
void BindEnvironment(Binder& b, const nlohmann::json& body, bool create,
                     repo::EnvironmentRow& env) {
  if (create || b.Find("Name") != nullptr) env.name = b.RequiredString("Name");
  if (b.Has("Description")) env.description = b.String("Description");
  if (b.Has("SortOrder")) env.sort_order = b.Int("SortOrder");
  env.use_guided_failure = b.Bool("UseGuidedFailure", env.use_guided_failure);
  env.allow_dynamic_infrastructure =
      b.Bool("AllowDynamicInfrastructure", env.allow_dynamic_infrastructure);
  env.extra = model::MergeExtras(env.extra, model::Extras(body, model::kEnvironmentFields));
}

Result<repo::EnvironmentRow> FindOr404(ApiContext& ctx, const std::string& space,
                                       const std::string& id) {
  CUTTLE_TRY(auto env, repo::FindEnvironment(ctx.db, space, id));
  if (!env) return Fail(Error::NotFound("environment", id));
  return std::move(*env);
}

}  // namespace

Result<http::Response> ListEnvironments(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListEnvironments(ctx.db, {space, req.Query("name")}, q));
  return ListResponse<repo::EnvironmentRow>("Environment", req, page, q, model::EnvironmentJson);
}

Result<http::Response> ListAllEnvironments(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllEnvironments(ctx.db, {space, req.Query("name")}, q));
  return AllResponse<repo::EnvironmentRow>(rows, model::EnvironmentJson);
}

Result<http::Response> GetEnvironment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto env, FindOr404(ctx, space, req.Param("id")));
  return http::Response::Json(200, model::EnvironmentJson(env));
}

Result<http::Response> CreateEnvironment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  repo::EnvironmentRow env;
  env.space_id = space;
  env.sort_order = -1;  // after the last one, unless the body says
  BindEnvironment(b, body, true, env);
  CUTTLE_TRY_VOID(b.Finish("environment"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto saved, repo::InsertEnvironment(tx, env));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created",
                                "Environment " + saved.name + " was created.", {saved.id}));
    env = std::move(saved);
    return {};
  }));
  return http::Response::Json(201, model::EnvironmentJson(env));
}

Result<http::Response> ModifyEnvironment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto env, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  BindEnvironment(b, body, false, env);
  if (env.sort_order < 0) b.Problem("The SortOrder field must not be negative.");
  CUTTLE_TRY_VOID(b.Finish("environment"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool updated, repo::UpdateEnvironment(tx, env));
    if (!updated) return Fail(Error::NotFound("environment", env.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "Environment " + env.name + " was modified.", {env.id}));
    return {};
  }));
  return http::Response::Json(200, model::EnvironmentJson(env));
}

Result<http::Response> DeleteEnvironment(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto env, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteEnvironment(tx, space, env.id));
    if (!deleted) return Fail(Error::NotFound("environment", env.id));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted",
                                "Environment " + env.name + " was deleted.", {env.id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

Result<http::Response> GetEnvironmentSortOrder(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto rows, repo::ListAllEnvironments(ctx.db, {space, std::nullopt}, {}));
  json ids = json::array();
  for (const auto& e : rows) ids.push_back(e.id);
  return http::Response::Json(200, ids);
}

// Octopus's body is the bare array of environment ids in their new order.
Result<http::Response> SortEnvironments(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, core::ParseJson(req.body));
  std::vector<std::string> ids;
  bool ok = body.is_array();
  for (const auto& v : ok ? body : json::array()) {
    if (!v.is_string()) {
      ok = false;
      break;
    }
    ids.push_back(v.get<std::string>());
  }
  if (!ok) {
    return Fail(Error::Invalid("The environment order could not be saved.",
                               {"The body must be a list of environment ids."}));
  }
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(repo::ReorderEnvironments(tx, space, ids));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, space, "Modified", "The order of environments was changed.", ids));
    return {};
  }));
  return GetEnvironmentSortOrder(ctx, req);
}

}  // namespace cuttle::api
