#include "api/handlers.h"

namespace cuttle::api {

namespace {
json SpaceJson(const repo::SpaceRow& s) {
  return {{"Id", s.id},
          {"Name", s.name},
          {"Slug", s.slug},
          {"Description", s.description},
          {"IsDefault", s.is_default},
          {"TaskQueueStopped", s.task_queue_stopped},
          {"SpaceManagersTeams", json::array()},
          {"SpaceManagersTeamMembers", json::array({"Users-1"})},
          {"Links", {{"Self", "/api/spaces/" + s.id}, {"SpaceHome", "/api/" + s.id}}}};
}

Result<std::vector<json>> FilteredSpaces(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto spaces, repo::ListSpaces(ctx.db));
  std::vector<json> out;
  for (const auto& s : spaces) {
    if (MatchesListFilters(req, s.id, s.name)) out.push_back(SpaceJson(s));
  }
  return out;
}
}  // namespace

http::Response ListSpaces(ApiContext& ctx, http::Request& req) {
  auto paging = ReadPaging(req);
  if (!paging) return http::Response::FromError(paging.error());
  auto items = FilteredSpaces(ctx, req);
  if (!items) return http::Response::FromError(items.error());
  return http::Response::Json(200, Collection("Space", "/api/spaces", *items, *paging));
}

http::Response ListAllSpaces(ApiContext& ctx, http::Request& req) {
  auto items = FilteredSpaces(ctx, req);
  if (!items) return http::Response::FromError(items.error());
  return http::Response::Json(200, json(*items));
}

http::Response GetSpace(ApiContext& ctx, http::Request& req) {
  auto space = repo::FindSpace(ctx.db, req.Param("id"));
  if (!space) return http::Response::FromError(space.error());
  if (!*space) return http::Response::FromError(Error::NotFound("space", req.Param("id")));
  return http::Response::Json(200, SpaceJson(**space));
}

}  // namespace cuttle::api
