// The built-in feed's Octopus resources (reference-octopus-api.md §2.6, §2.13): upload, list, get,
// download, delete, the feeds list and a package's versions.
#include <fmt/format.h>
#include <sys/stat.h>

#include <map>

#include "api/handlers.h"
#include "core/strings.h"
#include "feed/multipart.h"

namespace cuttle::api {

namespace {

constexpr const char* kBuiltInFeedId = "feeds-builtin";
// Room for the multipart framing around the file when Content-Length is checked against the
// maximum package size before any byte is read.
constexpr uint64_t kMultipartOverhead = 64 * 1024;

json PackageJson(const feed::Package& p) {
  std::string self = "/api/" + p.space_id + "/packages/" + p.resource_id();
  return {{"Id", p.resource_id()},
          {"SpaceId", p.space_id},
          {"PackageId", p.package_id},
          {"Version", p.version},
          {"Title", p.title},
          {"Summary", p.summary},
          {"Description", p.description},
          {"ReleaseNotes", p.release_notes},
          {"Published", core::FormatIso8601(p.published)},
          {"FileExtension", p.extension},
          {"PackageSizeBytes", p.size},
          {"Hash", p.sha1},
          {"Sha256", p.sha256},
          {"NuGetPackageId", p.package_id},
          {"FeedId", kBuiltInFeedId},
          {"NuGetFeedId", kBuiltInFeedId},
          {"PackageVersionBuildInformation", nullptr},
          {"Links", {{"Self", self}, {"Raw", self + "/raw"}}}};
}

// The newest version of each id, keeping List's order (ids ascending, newest first within one).
std::vector<feed::Package> LatestPerId(const std::vector<feed::Package>& all) {
  std::vector<feed::Package> out;
  for (const auto& p : all) {
    if (out.empty() || !core::EqualsIgnoreCase(out.back().package_id, p.package_id)) {
      out.push_back(p);
    }
  }
  return out;
}

Result<feed::Package> FindPackage(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto space, SpaceOf(ctx, req));
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

http::Response ServePackageFile(ApiContext& ctx, const http::Request& req, const feed::Package& p,
                                std::string_view content_type) {
  const std::string path = ctx.packages.PathOf(p);
  const uint64_t size = static_cast<uint64_t>(p.size);
  const std::string etag = "\"" + p.sha256 + "\"";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != size) {
    return http::Response::Error(500, "The package file for " + p.resource_id() +
                                          " is missing or damaged on the shared storage.");
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

http::Response UploadPackage(ApiContext& ctx, http::Request& req) {
  auto space = SpaceOf(ctx, req);
  if (!space) return http::Response::FromError(space.error());
  auto mode = feed::ParseOverwriteMode(req.Query("overwriteMode"), req.Query("replace"));
  if (!mode) return http::Response::FromError(mode.error());
  auto r = ReceivePackage(ctx, req, *space, *mode);
  if (!r) return http::Response::FromError(r.error());
  return http::Response::Json(r->created ? 201 : 200, PackageJson(r->package));
}

http::Response ListPackages(ApiContext& ctx, http::Request& req) {
  auto paging = ReadPaging(req);
  if (!paging) return http::Response::FromError(paging.error());
  auto space = SpaceOf(ctx, req);
  if (!space) return http::Response::FromError(space.error());
  auto exact = req.Query("nuGetPackageId");
  if (exact && exact->empty()) exact.reset();
  auto all = ctx.packages.List(*space, exact);
  if (!all) return http::Response::FromError(all.error());
  std::vector<feed::Package> rows = std::move(*all);
  auto filter = req.Query("filter");
  auto latest = req.Query("latest");
  // Octopus: `filter` lists the latest version of each package whose id contains it.
  if (filter && !filter->empty()) {
    std::erase_if(rows, [&](const feed::Package& p) {
      return !core::ContainsIgnoreCase(p.package_id, *filter);
    });
    rows = LatestPerId(rows);
  } else if (latest && core::EqualsIgnoreCase(*latest, "true")) {
    rows = LatestPerId(rows);
  }
  std::vector<json> items;
  items.reserve(rows.size());
  for (const auto& p : rows) items.push_back(PackageJson(p));
  return http::Response::Json(
      200, Collection("Package", "/api/" + *space + "/packages", items, *paging));
}

http::Response GetPackage(ApiContext& ctx, http::Request& req) {
  auto p = FindPackage(ctx, req);
  if (!p) return http::Response::FromError(p.error());
  return http::Response::Json(200, PackageJson(*p));
}

http::Response GetPackageRaw(ApiContext& ctx, http::Request& req) {
  auto p = FindPackage(ctx, req);
  if (!p) return http::Response::FromError(p.error());
  return ServePackageFile(ctx, req, *p, "application/octet-stream");
}

http::Response DeletePackage(ApiContext& ctx, http::Request& req) {
  auto p = FindPackage(ctx, req);
  if (!p) return http::Response::FromError(p.error());
  auto gone = ctx.packages.Delete(*p);
  if (!gone) return http::Response::FromError(gone.error());
  if (!*gone) return http::Response::FromError(Error::NotFound("package", req.Param("id")));
  return http::Response::Text(204, "");
}

namespace {
json BuiltInFeedJson(const std::string& space) {
  std::string self = "/api/" + space + "/feeds/" + kBuiltInFeedId;
  return {{"Id", kBuiltInFeedId},
          {"SpaceId", space},
          {"Name", "Octopus Server (built-in)"},
          {"Slug", "octopus-server-built-in"},
          {"FeedType", "BuiltIn"},
          {"IsBuiltInRepoSyncEnabled", false},
          {"DeleteUnreleasedPackagesAfterDays", nullptr},
          {"PackageAcquisitionLocationOptions", {"Server", "ExecutionTarget"}},
          {"Links",
           {{"Self", self},
            {"SearchPackageVersionsTemplate",
             self + "/packages/versions{?packageId,take,skip,includePreRelease}"}}}};
}
}  // namespace

http::Response ListFeeds(ApiContext& ctx, http::Request& req) {
  auto paging = ReadPaging(req);
  if (!paging) return http::Response::FromError(paging.error());
  auto space = SpaceOf(ctx, req);
  if (!space) return http::Response::FromError(space.error());
  std::vector<json> items;
  auto type = req.Query("feedType");
  if (MatchesListFilters(req, kBuiltInFeedId, "Octopus Server (built-in)") &&
      (!type || type->empty() || core::EqualsIgnoreCase(*type, "BuiltIn"))) {
    items.push_back(BuiltInFeedJson(*space));
  }
  return http::Response::Json(200, Collection("Feed", "/api/" + *space + "/feeds", items, *paging));
}

http::Response GetFeed(ApiContext& ctx, http::Request& req) {
  auto space = SpaceOf(ctx, req);
  if (!space) return http::Response::FromError(space.error());
  if (!core::EqualsIgnoreCase(req.Param("feedId"), kBuiltInFeedId)) {
    return http::Response::FromError(Error::NotFound("feed", req.Param("feedId")));
  }
  return http::Response::Json(200, BuiltInFeedJson(*space));
}

http::Response ListFeedPackageVersions(ApiContext& ctx, http::Request& req) {
  auto paging = ReadPaging(req);
  if (!paging) return http::Response::FromError(paging.error());
  auto space = SpaceOf(ctx, req);
  if (!space) return http::Response::FromError(space.error());
  if (!core::EqualsIgnoreCase(req.Param("feedId"), kBuiltInFeedId)) {
    return http::Response::FromError(Error::NotFound("feed", req.Param("feedId")));
  }
  auto id = req.Query("packageId");
  if (!id || id->empty()) {
    return http::Response::FromError(
        Error::InvalidArgument("The packageId parameter is required."));
  }
  auto all = ctx.packages.List(*space, *id);
  if (!all) return http::Response::FromError(all.error());
  auto pre = req.Query("includePreRelease");
  bool include_pre = !pre || !core::EqualsIgnoreCase(*pre, "false");
  std::vector<json> items;
  for (const auto& p : *all) {
    if (!include_pre && p.ParsedVersion().IsPrerelease()) continue;
    items.push_back({{"Id", p.resource_id()},
                     {"PackageId", p.package_id},
                     {"Version", p.version},
                     {"Title", p.title},
                     {"Published", core::FormatIso8601(p.published)},
                     {"SizeBytes", p.size},
                     {"FeedId", kBuiltInFeedId},
                     {"ReleaseNotes", p.release_notes},
                     {"Links", json::object()}});
  }
  return http::Response::Json(
      200, Collection("PackageVersion",
                      "/api/" + *space + "/feeds/" + kBuiltInFeedId + "/packages/versions", items,
                      *paging));
}

}  // namespace cuttle::api
