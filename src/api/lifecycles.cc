// Lifecycles: /api/{spaceId}/lifecycles (and the default space's /api/lifecycles).
#include <algorithm>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"
#include "model/document.h"
#include "model/lifecycle.h"
#include "repo/projects.h"
#include "repo/repo.h"
#include "repo/settings.h"

namespace cuttle::api {

namespace {

std::optional<model::RetentionPolicy> BindRetention(Binder& b, std::string_view field) {
  const json* v = b.Find(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_object()) {
    b.Problem("The " + std::string(field) + " field must be an object.");
    return std::nullopt;
  }
  Binder rb(*v);
  model::RetentionPolicy r;
  r.quantity_to_keep = rb.Int("QuantityToKeep", 0);
  if (r.quantity_to_keep < 0) rb.Problem("The QuantityToKeep field must not be negative.");
  r.should_keep_forever = rb.Bool("ShouldKeepForever", r.quantity_to_keep == 0);
  r.unit = rb.Enum("Unit", {"Days", "Items"}, "Days");
  ForwardProblems(b, rb, std::string(field) + ".");
  return r;
}

model::Phase BindPhase(Binder& b, const json& body, size_t index) {
  const std::string prefix = "Phases[" + std::to_string(index) + "].";
  model::Phase p;
  if (!body.is_object()) {
    b.Problem("The Phases[" + std::to_string(index) + "] item must be an object.");
    return p;
  }
  Binder pb(body);
  p.id = pb.String("Id");
  p.name = pb.RequiredString("Name");
  p.automatic_deployment_targets = pb.StringList("AutomaticDeploymentTargets");
  p.optional_deployment_targets = pb.StringList("OptionalDeploymentTargets");
  p.minimum_environments_before_promotion = pb.Int("MinimumEnvironmentsBeforePromotion", 0);
  if (p.minimum_environments_before_promotion < 0) {
    pb.Problem("The MinimumEnvironmentsBeforePromotion field must not be negative.");
  }
  p.is_optional_phase = pb.Bool("IsOptionalPhase");
  p.is_priority_phase = pb.Bool("IsPriorityPhase");
  p.release_retention_policy = BindRetention(pb, "ReleaseRetentionPolicy");
  p.tentacle_retention_policy = BindRetention(pb, "TentacleRetentionPolicy");
  ForwardProblems(b, pb, prefix);
  p.extra = model::Extras(body, model::kPhaseFields);
  return p;
}

// Reads the body over `l` (defaults on create; the stored lifecycle on PUT, where a property the
// body leaves out keeps its value).
void BindLifecycle(Binder& b, const json& body, bool create, model::Lifecycle& l) {
  if (create || b.Find("Name") != nullptr) l.name = b.RequiredString("Name");
  if (b.Has("Description")) l.description = b.String("Description");
  if (b.Has("Slug")) l.slug = b.String("Slug");
  if (b.Find("Phases") != nullptr) {
    const json phases = b.Array("Phases");
    l.phases.clear();
    for (size_t i = 0; i < phases.size(); ++i) l.phases.push_back(BindPhase(b, phases[i], i));
  }
  if (auto r = BindRetention(b, "ReleaseRetentionPolicy")) l.release_retention_policy = *r;
  if (auto r = BindRetention(b, "TentacleRetentionPolicy")) l.tentacle_retention_policy = *r;
  l.extra = model::MergeExtras(l.extra, model::Extras(body, model::kLifecycleFields));
}

// The server owns phase ids: a phase keeps the id it had in `before` (matched by id), and every
// other phase gets a new one.
Result<void> AssignPhaseIds(db::Transaction& tx, model::Lifecycle& l,
                            const model::Lifecycle* before) {
  std::vector<std::string> kept;
  for (auto& p : l.phases) {
    bool keep = false;
    if (before != nullptr && !p.id.empty()) {
      for (const auto& old : before->phases) keep = keep || core::EqualsIgnoreCase(old.id, p.id);
    }
    if (keep && std::find(kept.begin(), kept.end(), core::ToLower(p.id)) == kept.end()) {
      kept.push_back(core::ToLower(p.id));
      continue;
    }
    CUTTLE_TRY(p.id, repo::NextId(tx, "Phases"));
  }
  return {};
}

Result<model::Lifecycle> FindOr404(ApiContext& ctx, const std::string& space,
                                   const std::string& id) {
  CUTTLE_TRY(auto row, repo::FindLifecycle(ctx.db, space, id));
  if (!row) return Fail(Error::NotFound("lifecycle", id));
  return model::LifecycleFromRow(*row);
}

json ToJson(const repo::LifecycleRow& row) {
  return model::LifecycleJson(model::LifecycleFromRow(row));
}

}  // namespace

Result<http::Response> ListLifecycles(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListLifecycles(ctx.db, space, q));
  return ListResponse<repo::LifecycleRow>("Lifecycle", req, page, q, ToJson);
}

Result<http::Response> ListAllLifecycles(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllLifecycles(ctx.db, space, q));
  return AllResponse<repo::LifecycleRow>(rows, ToJson);
}

Result<http::Response> GetLifecycle(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto l, FindOr404(ctx, space, req.Param("id")));
  return http::Response::Json(200, model::LifecycleJson(l));
}

Result<http::Response> CreateLifecycle(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  model::Lifecycle l;
  l.space_id = space;
  BindLifecycle(b, body, true, l);
  CUTTLE_TRY_VOID(b.Finish("lifecycle"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    l.id.clear();
    CUTTLE_TRY_VOID(AssignPhaseIds(tx, l, nullptr));
    CUTTLE_TRY(auto saved,
               repo::InsertLifecycle(tx, model::LifecycleToRow(l), model::NamedEnvironments(l)));
    l.id = saved.id;
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, space, "Created", "Lifecycle " + l.name + " was created.", {l.id}));
    return {};
  }));
  return http::Response::Json(201, model::LifecycleJson(l));
}

Result<http::Response> ModifyLifecycle(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(const auto before, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  model::Lifecycle l = before;
  BindLifecycle(b, body, false, l);
  CUTTLE_TRY_VOID(b.Finish("lifecycle"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(AssignPhaseIds(tx, l, &before));
    CUTTLE_TRY(bool updated,
               repo::UpdateLifecycle(tx, model::LifecycleToRow(l), model::NamedEnvironments(l)));
    if (!updated) return Fail(Error::NotFound("lifecycle", l.id));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, space, "Modified", "Lifecycle " + l.name + " was modified.", {l.id}));
    return {};
  }));
  return http::Response::Json(200, model::LifecycleJson(l));
}

Result<http::Response> DeleteLifecycle(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto l, FindOr404(ctx, space, req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteLifecycle(tx, space, l.id));
    if (!deleted) return Fail(Error::NotFound("lifecycle", l.id));
    CUTTLE_TRY(auto project, repo::ProjectNaming(tx, "lifecycle_id", l.id));
    if (project) {
      return Fail(Error::Conflict("The lifecycle '" + l.name + "' is used by the project '" +
                                  *project + "' (or one of its channels)."));
    }
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, space, "Deleted", "Lifecycle " + l.name + " was deleted.", {l.id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
