#include "model/package.h"

#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

json PackageJson(const repo::PackageRow& p) {
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

json PackageVersionJson(const repo::PackageRow& p) {
  return {{"Id", p.resource_id()},
          {"PackageId", p.package_id},
          {"Version", p.version},
          {"Title", p.title},
          {"Published", core::FormatIso8601(p.published)},
          {"SizeBytes", p.size},
          {"FeedId", kBuiltInFeedId},
          {"ReleaseNotes", p.release_notes},
          {"Links", json::object()}};
}

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

}  // namespace cuttle::model
