#include "api/handlers.h"
#include "api/kit.h"
#include "model/space.h"

namespace cuttle::api {

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
  CUTTLE_TRY(auto space, repo::FindSpace(ctx.db, req.Param("id")));
  if (!space) return Fail(Error::NotFound("space", req.Param("id")));
  return http::Response::Json(200, model::SpaceJson(*space));
}

}  // namespace cuttle::api
