// The built-in feed's Octopus resources (reference-octopus-api.md §2.6, §2.13): upload, list, get,
// download, delete, the feeds list and a package's versions.
#include "repo/packages.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <map>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"
#include "feed/multipart.h"
#include "model/package.h"

namespace cuttle::api {

namespace {

using model::kBuiltInFeedId;
// Room for the multipart framing around the file when Content-Length is checked against the
// maximum package size before any byte is read.
constexpr uint64_t kMultipartOverhead = 64 * 1024;

Result<feed::Package> FindPackage(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto p, ctx.packages.Get(space, req.Param("id")));
  if (!p) return Fail(Error::NotFound("package", req.Param("id")));
  return *p;
}

// Parses a single "bytes=" range against `size`; nullopt when the header should be ignored
// (absent, multiple ranges, another unit), an error when it cannot be satisfied.
Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseRange(std::string_view header,
                                                                uint64_t size) {
  using Range = std::optional<std::pair<uint64_t, uint64_t>>;
  header = core::Trim(header);
  if (!header.starts_with("bytes=") || header.find(',') != std::string_view::npos) return Range();
  std::string_view spec = core::Trim(header.substr(6));
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return Range();
  std::string_view a = core::Trim(spec.substr(0, dash));
  std::string_view b = core::Trim(spec.substr(dash + 1));
  auto first = a.empty() ? std::optional<int64_t>() : core::ParseInt(a);
  auto last = b.empty() ? std::optional<int64_t>() : core::ParseInt(b);
  if ((!a.empty() && (!first || *first < 0)) || (!b.empty() && (!last || *last < 0)) ||
      (a.empty() && b.empty())) {
    return Range();  // malformed: RFC 9110 says ignore it
  }
  uint64_t from = 0;
  uint64_t to = 0;
  if (a.empty()) {  // the last N bytes
    uint64_t n = static_cast<uint64_t>(*last);
    if (n == 0 || size == 0) return Fail(Error::InvalidArgument("unsatisfiable"));
    from = n >= size ? 0 : size - n;
    to = size - 1;
  } else {
    from = static_cast<uint64_t>(*first);
    to = last ? std::min<uint64_t>(static_cast<uint64_t>(*last), size - 1) : size - 1;
    if (from >= size || (last && static_cast<uint64_t>(*last) < from)) {
      return Fail(Error::InvalidArgument("unsatisfiable"));
    }
  }
  return Range(std::pair{from, to});
}

}  // namespace

Result<http::Response> ServePackageFile(ApiContext& ctx, const http::Request& req,
                                        const feed::Package& p, std::string_view content_type) {
  const std::string path = ctx.packages.PathOf(p);
  const uint64_t size = static_cast<uint64_t>(p.size);
  const std::string etag = "\"" + p.sha256 + "\"";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != size) {
    return Fail(Error::Io("The package file " + path + " for " + p.resource_id() +
                          " is missing or damaged on the shared storage."));
  }
  auto with_headers = [&](http::Response r) {
    r.SetHeader("ETag", etag);
    r.SetHeader("Accept-Ranges", "bytes");
    return r;
  };
  if (auto inm = req.Header("If-None-Match"); inm && *inm == etag) {
    return with_headers(http::Response::Text(304, ""));
  }
  std::optional<std::pair<uint64_t, uint64_t>> range;
  auto range_header = req.Header("Range");
  auto if_range = req.Header("If-Range");
  if (range_header && (!if_range || *if_range == etag)) {
    auto parsed = ParseRange(*range_header, size);
    if (!parsed) {
      // Built here rather than returned as an Error: a 416 carries Content-Range, which the
      // route adapter's error responses have no place for.
      http::Response r = http::Response::Error(416, "The requested range is not satisfiable.");
      r.SetHeader("Content-Range", fmt::format("bytes */{}", size));
      return with_headers(std::move(r));
    }
    range = *parsed;
  }
  http::Response r = http::Response::Text(range ? 206 : 200, "", std::string(content_type));
  std::string download_name = p.package_id + "." + p.version + p.extension;
  r.SetHeader("Content-Disposition", "attachment; filename=\"" + download_name + "\"");
  if (range) {
    r.SetHeader("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->second, size));
    r.file = http::FileBody{path, range->first, range->second - range->first + 1};
  } else {
    r.file = http::FileBody{path, 0, size};
  }
  return with_headers(std::move(r));
}

Result<feed::UploadResult> ReceivePackage(ApiContext& ctx, http::Request& req,
                                          const std::string& space_id, feed::OverwriteMode mode) {
  const uint64_t max = ctx.packages.max_size_bytes();
  if (auto length = req.Header("Content-Length")) {
    auto n = core::ParseInt(*length);
    if (n && static_cast<uint64_t>(*n) > max + kMultipartOverhead) {
      return Fail(Error::TooLarge(
          fmt::format("The package is larger than the maximum package size of {} bytes.", max)));
    }
  }
  CUTTLE_TRY(auto boundary, feed::MultipartBoundary(req.Header("Content-Type").value_or("")));
  feed::MultipartReader reader(req.body_reader, boundary);
  std::optional<feed::PartHeaders> part;
  for (;;) {
    CUTTLE_TRY(part, reader.NextPart());
    if (!part) {
      return Fail(
          Error::InvalidArgument("The request has no file part: send the package as a "
                                 "multipart/form-data file field."));
    }
    if (part->filename) break;  // the first file part, whatever its field name
  }
  CUTTLE_TRY(auto result, ctx.packages.Upload(space_id, *part->filename, mode,
                                              [&reader] { return reader.Read(); }));
  // Read the rest (closing boundary, epilogue) so that a keep-alive connection stays usable.
  while (true) {
    auto next = reader.NextPart();
    if (!next || !*next) break;
  }
  (void)reader.DrainEpilogue();
  return result;
}

Result<http::Response> UploadPackage(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto mode, feed::ParseOverwriteMode(req.Query("overwriteMode"), req.Query("replace")));
  CUTTLE_TRY(auto r, ReceivePackage(ctx, req, space, mode));
  return http::Response::Json(r.created ? 201 : 200, model::PackageJson(r.package));
}

Result<http::Response> ListPackages(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::PackageFilter f;
  CUTTLE_TRY(f.space_id, RouteSpace(ctx, req));
  if (auto exact = req.Query("nuGetPackageId"); exact && !exact->empty()) f.package_id = *exact;
  // Octopus: `filter` lists the latest version of each package whose id contains it.
  if (auto filter = req.Query("filter"); filter && !filter->empty()) {
    f.id_contains = *filter;
    f.latest_only = true;
  } else if (auto latest = req.Query("latest"); latest && core::EqualsIgnoreCase(*latest, "true")) {
    f.latest_only = true;
  }
  // Octopus's own paging parameters; ids and partialName are not filters of this list.
  q.ids.reset();
  q.partial_name.reset();
  CUTTLE_TRY(auto page, repo::ListPackages(ctx.db, f, q));
  return ListResponse<repo::PackageRow>("Package", req, page, q, model::PackageJson);
}

Result<http::Response> GetPackage(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto p, FindPackage(ctx, req));
  return http::Response::Json(200, model::PackageJson(p));
}

Result<http::Response> GetPackageRaw(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto p, FindPackage(ctx, req));
  return ServePackageFile(ctx, req, p, "application/octet-stream");
}

Result<http::Response> DeletePackage(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto p, FindPackage(ctx, req));
  CUTTLE_TRY(bool gone, ctx.packages.Delete(p));
  if (!gone) return Fail(Error::NotFound("package", req.Param("id")));
  return http::Response::Text(204, "");
}

Result<http::Response> ListFeeds(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  // One feed, the built-in one: its list is built here, not read from a table, so the common
  // filters and the page are applied to it here too.
  auto type = req.Query("feedType");
  bool listed = !type || type->empty() || core::EqualsIgnoreCase(*type, "BuiltIn");
  if (q.ids) {
    listed = listed && std::any_of(q.ids->begin(), q.ids->end(), [](const std::string& id) {
               return core::EqualsIgnoreCase(id, kBuiltInFeedId);
             });
  }
  if (q.partial_name) {
    listed = listed && core::ContainsIgnoreCase("Octopus Server (built-in)", *q.partial_name);
  }
  repo::Page<std::string> page;
  page.total = listed ? 1 : 0;
  if (listed && q.skip == 0 && q.take > 0) page.items.push_back(space);
  return ListResponse<std::string>("Feed", req, page, q, model::BuiltInFeedJson);
}

Result<http::Response> GetFeed(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  if (!core::EqualsIgnoreCase(req.Param("feedId"), kBuiltInFeedId)) {
    return Fail(Error::NotFound("feed", req.Param("feedId")));
  }
  return http::Response::Json(200, model::BuiltInFeedJson(space));
}

Result<http::Response> ListFeedPackageVersions(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  repo::PackageFilter f;
  CUTTLE_TRY(f.space_id, RouteSpace(ctx, req));
  if (!core::EqualsIgnoreCase(req.Param("feedId"), kBuiltInFeedId)) {
    return Fail(Error::NotFound("feed", req.Param("feedId")));
  }
  auto id = req.Query("packageId");
  if (!id || id->empty()) {
    return Fail(Error::InvalidArgument("The packageId parameter is required."));
  }
  f.package_id = *id;
  auto pre = req.Query("includePreRelease");
  f.stable_only = pre && core::EqualsIgnoreCase(*pre, "false");
  q.ids.reset();
  q.partial_name.reset();
  CUTTLE_TRY(auto page, repo::ListPackages(ctx.db, f, q));
  return ListResponse<repo::PackageRow>("PackageVersion", req, page, q, model::PackageVersionJson);
}

}  // namespace cuttle::api
