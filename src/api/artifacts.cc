#include <fmt/format.h>

#include <cctype>
#include <string_view>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"
#include "model/artifact.h"

namespace cuttle::api {

namespace {
// RFC 6266: a quoted ASCII fallback any client understands (quotes, backslashes and bytes outside
// printable ASCII become '_'), then the exact name as RFC 8187 UTF-8 percent-encoding (UrlEncode
// keeps only unreserved characters, a subset of RFC 8187's attr-char).
std::string ContentDisposition(std::string_view filename) {
  std::string ascii;
  for (unsigned char c : filename) {
    bool printable = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    ascii += printable ? static_cast<char>(c) : '_';
  }
  return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii,
                     core::UrlEncode(filename));
}

Result<tasks::Artifact> FindArtifact(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto a, ctx.artifacts.Get(req.Param("id")));
  if (!a || !core::EqualsIgnoreCase(a->space_id, space)) {
    return Fail(Error::NotFound("artifact", req.Param("id")));
  }
  return *a;
}
}  // namespace

Result<http::Response> ListArtifacts(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto page, ctx.artifacts.List(space, req.Query("regarding"), q));
  return ListResponse<tasks::Artifact>("Artifact", req, page, q, model::ArtifactJson);
}

Result<http::Response> GetArtifact(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto a, FindArtifact(ctx, req));
  return http::Response::Json(200, model::ArtifactJson(a));
}

Result<http::Response> GetArtifactContent(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto a, FindArtifact(ctx, req));
  std::string path = ctx.artifacts.PathOf(a);
  http::Response r = http::Response::Text(200, "", "application/octet-stream");
  r.SetHeader("Content-Disposition", ContentDisposition(a.filename));
  r.file = http::FileBody{path, 0, static_cast<uint64_t>(a.size)};
  return r;
}

Result<http::Response> DeleteArtifact(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto a, FindArtifact(ctx, req));
  CUTTLE_TRY_VOID(ctx.artifacts.Delete(a.id));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
