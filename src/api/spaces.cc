#include "api/handlers.h"
#include "api/kit.h"
#include "model/document.h"
#include "model/space.h"

namespace cuttle::api {

namespace {

// Reads the body over `space` (defaults on create; the stored space on PUT, where a property the
// body leaves out keeps its value).
void BindSpace(Binder& b, const json& body, bool create, repo::SpaceRow& space) {
  if (create || b.Find("Name") != nullptr) space.name = b.RequiredString("Name");
  if (b.Has("Description")) space.description = b.String("Description");
  if (b.Has("Slug")) {
    space.slug = model::Slugify(b.String("Slug"));
  } else if (create) {
    space.slug = model::Slugify(space.name);
  }
  space.task_queue_stopped = b.Bool("TaskQueueStopped", space.task_queue_stopped);
  // Switching the default space is not supported: a request that asks for it is refused rather
  // than silently ignored.
  if (b.Bool("IsDefault", space.is_default) != space.is_default) {
    b.Problem(create ? "A new space cannot be the default space."
                     : "The default space cannot be changed.");
  }
  for (const char* list : {"SpaceManagersTeams", "SpaceManagersTeamMembers"}) {
    if (b.Find(list) != nullptr) b.StringList(list);  // type-checked; kept in `extra`
  }
  space.extra = model::MergeExtras(space.extra, model::Extras(body, model::kSpaceFields));
}

Result<repo::SpaceRow> FindOr404(ApiContext& ctx, const std::string& id) {
  CUTTLE_TRY(auto space, repo::FindSpace(ctx.db, id));
  if (!space) return Fail(Error::NotFound("space", id));
  return std::move(*space);
}

}  // namespace

Result<http::Response> ListSpaces(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListSpaces(ctx.db, q));
  return ListResponse<repo::SpaceRow>("Space", req, page, q, model::SpaceJson);
}

Result<http::Response> ListAllSpaces(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllSpaces(ctx.db, q));
  return AllResponse<repo::SpaceRow>(rows, model::SpaceJson);
}

Result<http::Response> GetSpace(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, FindOr404(ctx, req.Param("id")));
  return http::Response::Json(200, model::SpaceJson(space));
}

Result<http::Response> CreateSpace(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  repo::SpaceRow space;
  BindSpace(b, body, true, space);
  if (space.slug.empty() && !space.name.empty()) {
    b.Problem("The Name field must contain a letter or a digit.");
  }
  CUTTLE_TRY_VOID(b.Finish("space"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(auto saved, repo::InsertSpace(tx, space));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, "", "Created", "Space " + saved.name + " was created.", {saved.id}));
    space = std::move(saved);
    return {};
  }));
  return http::Response::Json(201, model::SpaceJson(space));
}

Result<http::Response> ModifySpace(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, FindOr404(ctx, req.Param("id")));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  BindSpace(b, body, false, space);
  if (space.slug.empty()) b.Problem("The Slug field must contain a letter or a digit.");
  CUTTLE_TRY_VOID(b.Finish("space"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool updated, repo::UpdateSpace(tx, space));
    if (!updated) return Fail(Error::NotFound("space", space.id));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, "", "Modified", "Space " + space.name + " was modified.", {space.id}));
    return {};
  }));
  return http::Response::Json(200, model::SpaceJson(space));
}

// Octopus refuses to delete a space whose task queue is running; so does Cuttle (stop it with a
// PUT of TaskQueueStopped: true first), and also while the space has queued or running tasks.
Result<http::Response> DeleteSpace(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, FindOr404(ctx, req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool deleted, repo::DeleteSpace(tx, space.id));
    if (!deleted) return Fail(Error::NotFound("space", space.id));
    CUTTLE_TRY_VOID(
        RecordEvent(tx, req, "", "Deleted", "Space " + space.name + " was deleted.", {space.id}));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
