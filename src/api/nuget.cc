// The NuGet v2 (OData/Atom) feed over the built-in repository, as nuget.exe 2.8.7 on Mono uses it
// (reference-octopus-api.md §4): push, list, install and delete. Mounted at /nuget/packages (the
// default space) and /{spaceId}/nuget/packages. Reads are anonymous because nuget.exe prompts for
// credentials on a 401 and then fails non-interactively; writes need an API key and answer a bad
// one with 403 for the same reason (api::Gate, at admission).
//
// The handlers are the kit's (Result<Response>), and their failures take the route adapter's
// Octopus error shape, as before. What is not an Octopus collection stays NuGet's: the feeds are
// OData/Atom XML built here, and their $filter/$orderby/$skip/$top are applied to the entries of
// the space in memory (the OData filters read IsLatestVersion, computed over every version of an
// id), so this feed does not use ListResponse.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"

namespace cuttle::api {

namespace {

constexpr std::string_view kAtomFeed = "application/atom+xml;type=feed;charset=utf-8";
constexpr std::string_view kAtomEntry = "application/atom+xml;type=entry;charset=utf-8";

// OData's DateTime: no zone suffix.
std::string EdmDateTime(int64_t ms) {
  std::string iso = core::FormatIso8601(ms);
  if (iso.ends_with('Z')) iso.pop_back();
  return iso;
}

// The feed root as the client addressed it, e.g. "http://host:8080/nuget/packages".
std::string FeedRoot(const http::Request& req) {
  std::string host = req.Header("Host").value_or("localhost");
  auto proto = req.Header("X-Forwarded-Proto");
  std::string scheme = proto && core::EqualsIgnoreCase(*proto, "https") ? "https" : "http";
  std::string space = req.Param("spaceId");
  return scheme + "://" + host + (space.empty() ? "" : "/" + space) + "/nuget/packages";
}

// OData string literal: 'it''s' -> it's.
std::string Unquote(std::string_view s) {
  s = core::Trim(s);
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') s = s.substr(1, s.size() - 2);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') ++i;
  }
  return out;
}

// The quoted literal following `prefix` in `text` (case-insensitive), e.g. "Id eq '" -> x.
std::optional<std::string> LiteralAfter(std::string_view text, std::string_view prefix) {
  std::string lower = core::ToLower(text);
  size_t at = lower.find(core::ToLower(prefix));
  if (at == std::string::npos) return std::nullopt;
  size_t start = at + prefix.size();
  std::string out;
  for (size_t i = start; i < text.size(); ++i) {
    if (text[i] == '\'') {
      if (i + 1 < text.size() && text[i + 1] == '\'') {
        out += '\'';
        ++i;
        continue;
      }
      return out;
    }
    out += text[i];
  }
  return std::nullopt;
}

// NuGet 2.x re-validates its machine cache with PackageHash: base64 of the digest bytes.
std::string Base64OfHex(std::string_view hex) {
  return core::Base64Encode(core::HexDecode(hex).value_or(""));
}

struct FeedEntry {
  feed::Package package;
  feed::Version version;
  bool is_latest = false;           // newest stable version of its id
  bool is_absolute_latest = false;  // newest version of its id
};

// Every package of the space with its latest flags (List gives newest first within an id).
Result<std::vector<FeedEntry>> Entries(ApiContext& ctx, const std::string& space,
                                       const std::optional<std::string>& id = std::nullopt) {
  CUTTLE_TRY(auto all, ctx.packages.List(space, id));
  std::vector<FeedEntry> out;
  std::string current;
  bool stable_seen = false;
  for (auto& p : all) {
    // Only a .nupkg is something a NuGet client can install; zips and tarballs stay Octopus-only.
    if (p.extension != ".nupkg") continue;
    FeedEntry e{p, p.ParsedVersion()};
    std::string key = core::ToLower(p.package_id);
    if (key != current) {
      current = key;
      stable_seen = false;
      e.is_absolute_latest = true;
    }
    if (!stable_seen && !e.version.IsPrerelease()) {
      e.is_latest = true;
      stable_seen = true;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string EntryXml(const std::string& root, const FeedEntry& e) {
  const feed::Package& p = e.package;
  std::string key = fmt::format("Packages(Id='{}',Version='{}')", core::EscapeMarkup(p.package_id),
                                core::EscapeMarkup(p.version));
  std::string updated = core::FormatIso8601(p.published);
  auto b = [](bool v) { return v ? "true" : "false"; };
  return fmt::format(
      "<entry><id>{root}/{key}</id>"
      "<category term=\"NuGetGallery.V2FeedPackage\" "
      "scheme=\"http://schemas.microsoft.com/ado/2007/08/dataservices/scheme\"/>"
      "<link rel=\"edit\" title=\"V2FeedPackage\" href=\"{key}\"/>"
      "<title type=\"text\">{id}</title><summary type=\"text\">{summary}</summary>"
      "<updated>{updated}</updated><author><name>{authors}</name></author>"
      "<link rel=\"edit-media\" title=\"V2FeedPackage\" href=\"{key}/$value\"/>"
      "<content type=\"application/zip\" src=\"{root}/package/{id}/{version}\"/>"
      "<m:properties>"
      "<d:Version>{version}</d:Version><d:NormalizedVersion>{version}</d:NormalizedVersion>"
      "<d:Title>{title}</d:Title><d:Description>{description}</d:Description>"
      "<d:ReleaseNotes>{notes}</d:ReleaseNotes>"
      "<d:IsLatestVersion m:type=\"Edm.Boolean\">{latest}</d:IsLatestVersion>"
      "<d:IsAbsoluteLatestVersion m:type=\"Edm.Boolean\">{abs}</d:IsAbsoluteLatestVersion>"
      "<d:IsPrerelease m:type=\"Edm.Boolean\">{pre}</d:IsPrerelease>"
      "<d:Listed m:type=\"Edm.Boolean\">true</d:Listed>"
      "<d:Published m:type=\"Edm.DateTime\">{published}</d:Published>"
      "<d:Created m:type=\"Edm.DateTime\">{published}</d:Created>"
      "<d:LastUpdated m:type=\"Edm.DateTime\">{published}</d:LastUpdated>"
      "<d:Dependencies></d:Dependencies>"
      "<d:PackageHash>{hash}</d:PackageHash><d:PackageHashAlgorithm>SHA256</d:PackageHashAlgorithm>"
      "<d:PackageSize m:type=\"Edm.Int64\">{size}</d:PackageSize>"
      "<d:DownloadCount m:type=\"Edm.Int32\">0</d:DownloadCount>"
      "<d:VersionDownloadCount m:type=\"Edm.Int32\">0</d:VersionDownloadCount>"
      "<d:RequireLicenseAcceptance m:type=\"Edm.Boolean\">false</d:RequireLicenseAcceptance>"
      "<d:IconUrl m:null=\"true\"/><d:LicenseUrl m:null=\"true\"/><d:ProjectUrl m:null=\"true\"/>"
      "<d:Tags></d:Tags>"
      "</m:properties></entry>",
      fmt::arg("root", core::EscapeMarkup(root)), fmt::arg("key", key),
      fmt::arg("id", core::EscapeMarkup(p.package_id)),
      fmt::arg("version", core::EscapeMarkup(p.version)),
      fmt::arg("summary", core::EscapeMarkup(p.summary)), fmt::arg("updated", updated),
      fmt::arg("authors", core::EscapeMarkup(p.authors)),
      fmt::arg("title", core::EscapeMarkup(p.title)),
      fmt::arg("description", core::EscapeMarkup(p.description)),
      fmt::arg("notes", core::EscapeMarkup(p.release_notes)), fmt::arg("latest", b(e.is_latest)),
      fmt::arg("abs", b(e.is_absolute_latest)), fmt::arg("pre", b(e.version.IsPrerelease())),
      fmt::arg("published", EdmDateTime(p.published)), fmt::arg("hash", Base64OfHex(p.sha256)),
      fmt::arg("size", p.size));
}

constexpr std::string_view kNamespaces =
    "xmlns=\"http://www.w3.org/2005/Atom\" "
    "xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\" "
    "xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\"";

http::Response FeedResponse(const std::string& root, std::string_view title,
                            const std::vector<const FeedEntry*>& entries) {
  std::string body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xml:base=\"{0}/\" {1}>"
      "<id>{0}/{2}</id><title type=\"text\">{2}</title><updated>{3}</updated>"
      "<link rel=\"self\" title=\"{2}\" href=\"{2}\"/>",
      core::EscapeMarkup(root), kNamespaces, title,
      core::FormatIso8601(core::ToUnixMillis(core::SystemClock::Instance().Now())));
  for (const auto* e : entries) body += EntryXml(root, *e);
  body += "</feed>";
  http::Response r = http::Response::Text(200, std::move(body), std::string(kAtomFeed));
  r.SetHeader("DataServiceVersion", "2.0;");
  return r;
}

// Applies searchTerm, includePrerelease, $filter, $orderby, $skip and $top, then answers a feed.
http::Response Query(const http::Request& req, const std::string& root, std::string_view title,
                     const std::vector<FeedEntry>& all) {
  std::vector<const FeedEntry*> rows;
  for (const auto& e : all) rows.push_back(&e);
  auto keep = [&](auto pred) {
    std::erase_if(rows, [&](const FeedEntry* e) { return !pred(*e); });
  };

  if (auto term = req.Query("searchTerm")) {
    std::string t = Unquote(*term);
    if (!t.empty()) {
      keep([&](const FeedEntry& e) {
        return core::ContainsIgnoreCase(e.package.package_id, t) ||
               core::ContainsIgnoreCase(e.package.title, t) ||
               core::ContainsIgnoreCase(e.package.description, t);
      });
    }
  }
  if (auto pre = req.Query("includePrerelease"); pre && core::EqualsIgnoreCase(*pre, "false")) {
    keep([](const FeedEntry& e) { return !e.version.IsPrerelease(); });
  }
  std::string filter = req.Query("$filter").value_or("");
  std::string f = core::ToLower(filter);
  if (f.find("isabsolutelatestversion") != std::string::npos) {
    keep([](const FeedEntry& e) { return e.is_absolute_latest; });
  } else if (f.find("islatestversion") != std::string::npos) {
    keep([](const FeedEntry& e) { return e.is_latest; });
  }
  // Packages() fallbacks: (Id eq 'x') and (Version eq 'y'), tolower(Id) eq 'x',
  // substringof('x',tolower(Id)).
  if (auto id = LiteralAfter(filter, "tolower(Id) eq '")) {
    keep([&](const FeedEntry& e) { return core::EqualsIgnoreCase(e.package.package_id, *id); });
  } else if (auto id2 = LiteralAfter(filter, "Id eq '")) {
    keep([&](const FeedEntry& e) { return core::EqualsIgnoreCase(e.package.package_id, *id2); });
  }
  if (auto v = LiteralAfter(filter, "Version eq '")) {
    auto wanted = feed::Version::Parse(*v);
    keep([&](const FeedEntry& e) { return wanted && e.version == *wanted; });
  }
  if (auto sub = LiteralAfter(filter, "substringof('")) {
    keep([&](const FeedEntry& e) { return core::ContainsIgnoreCase(e.package.package_id, *sub); });
  }

  std::string order = core::ToLower(core::Trim(req.Query("$orderby").value_or("")));
  if (order.starts_with("version")) {
    bool desc = order.ends_with("desc");
    std::stable_sort(rows.begin(), rows.end(), [&](const FeedEntry* a, const FeedEntry* b) {
      return desc ? a->version > b->version : a->version < b->version;
    });
  } else if (order.starts_with("published") || order.starts_with("lastupdated")) {
    bool desc = order.ends_with("desc");
    std::stable_sort(rows.begin(), rows.end(), [&](const FeedEntry* a, const FeedEntry* b) {
      return desc ? a->package.published > b->package.published
                  : a->package.published < b->package.published;
    });
  }  // "Id" and the rest: List's order already is id ascending, newest version first.

  auto number = [&](const char* name, int64_t fallback) {
    auto v = req.Query(name);
    auto n = v ? core::ParseInt(*v) : std::nullopt;
    return n && *n >= 0 ? *n : fallback;
  };
  size_t skip = static_cast<size_t>(std::min<int64_t>(number("$skip", 0), 1'000'000'000));
  size_t top = static_cast<size_t>(std::min<int64_t>(number("$top", 1'000'000), 1'000'000));
  skip = std::min(skip, rows.size());
  std::vector<const FeedEntry*> page(
      rows.begin() + static_cast<ptrdiff_t>(skip),
      rows.begin() + static_cast<ptrdiff_t>(std::min(rows.size(), skip + top)));
  return FeedResponse(root, title, page);
}

constexpr std::string_view kMetadata =
    R"EDMX(<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">
<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" m:DataServiceVersion="2.0">
<Schema Namespace="NuGetGallery" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns="http://schemas.microsoft.com/ado/2006/04/edm">
<EntityType Name="V2FeedPackage" m:HasStream="true">
<Key><PropertyRef Name="Id"/><PropertyRef Name="Version"/></Key>
<Property Name="Id" Type="Edm.String" Nullable="false" m:FC_TargetPath="SyndicationTitle" m:FC_ContentKind="text" m:FC_KeepInContent="false"/>
<Property Name="Version" Type="Edm.String" Nullable="false"/>
<Property Name="NormalizedVersion" Type="Edm.String" Nullable="true"/>
<Property Name="Authors" Type="Edm.String" Nullable="true" m:FC_TargetPath="SyndicationAuthorName" m:FC_ContentKind="text" m:FC_KeepInContent="false"/>
<Property Name="Copyright" Type="Edm.String" Nullable="true"/>
<Property Name="Created" Type="Edm.DateTime" Nullable="false"/>
<Property Name="Dependencies" Type="Edm.String" Nullable="true"/>
<Property Name="Description" Type="Edm.String" Nullable="true"/>
<Property Name="DownloadCount" Type="Edm.Int32" Nullable="false"/>
<Property Name="IconUrl" Type="Edm.String" Nullable="true"/>
<Property Name="IsLatestVersion" Type="Edm.Boolean" Nullable="false"/>
<Property Name="IsAbsoluteLatestVersion" Type="Edm.Boolean" Nullable="false"/>
<Property Name="IsPrerelease" Type="Edm.Boolean" Nullable="false"/>
<Property Name="Language" Type="Edm.String" Nullable="true"/>
<Property Name="LastUpdated" Type="Edm.DateTime" Nullable="false" m:FC_TargetPath="SyndicationUpdated" m:FC_ContentKind="text" m:FC_KeepInContent="false"/>
<Property Name="Published" Type="Edm.DateTime" Nullable="false"/>
<Property Name="PackageHash" Type="Edm.String" Nullable="true"/>
<Property Name="PackageHashAlgorithm" Type="Edm.String" Nullable="true"/>
<Property Name="PackageSize" Type="Edm.Int64" Nullable="false"/>
<Property Name="ProjectUrl" Type="Edm.String" Nullable="true"/>
<Property Name="ReleaseNotes" Type="Edm.String" Nullable="true"/>
<Property Name="RequireLicenseAcceptance" Type="Edm.Boolean" Nullable="false"/>
<Property Name="Summary" Type="Edm.String" Nullable="true" m:FC_TargetPath="SyndicationSummary" m:FC_ContentKind="text" m:FC_KeepInContent="false"/>
<Property Name="Tags" Type="Edm.String" Nullable="true"/>
<Property Name="Title" Type="Edm.String" Nullable="true"/>
<Property Name="VersionDownloadCount" Type="Edm.Int32" Nullable="false"/>
<Property Name="Listed" Type="Edm.Boolean" Nullable="false"/>
<Property Name="LicenseUrl" Type="Edm.String" Nullable="true"/>
</EntityType>
<EntityContainer Name="FeedContext_x0060_1" m:IsDefaultEntityContainer="true">
<EntitySet Name="Packages" EntityType="NuGetGallery.V2FeedPackage"/>
<FunctionImport Name="Search" ReturnType="Collection(NuGetGallery.V2FeedPackage)" EntitySet="Packages" m:HttpMethod="GET">
<Parameter Name="searchTerm" Type="Edm.String" FixedLength="false" Unicode="false"/>
<Parameter Name="targetFramework" Type="Edm.String" FixedLength="false" Unicode="false"/>
<Parameter Name="includePrerelease" Type="Edm.Boolean" Nullable="false"/>
</FunctionImport>
<FunctionImport Name="FindPackagesById" ReturnType="Collection(NuGetGallery.V2FeedPackage)" EntitySet="Packages" m:HttpMethod="GET">
<Parameter Name="id" Type="Edm.String" FixedLength="false" Unicode="false"/>
</FunctionImport>
<FunctionImport Name="GetUpdates" ReturnType="Collection(NuGetGallery.V2FeedPackage)" EntitySet="Packages" m:HttpMethod="GET">
<Parameter Name="packageIds" Type="Edm.String" FixedLength="false" Unicode="false"/>
<Parameter Name="versions" Type="Edm.String" FixedLength="false" Unicode="false"/>
<Parameter Name="includePrerelease" Type="Edm.Boolean" Nullable="false"/>
<Parameter Name="includeAllVersions" Type="Edm.Boolean" Nullable="false"/>
<Parameter Name="targetFrameworks" Type="Edm.String" FixedLength="false" Unicode="false"/>
<Parameter Name="versionConstraints" Type="Edm.String" FixedLength="false" Unicode="false"/>
</FunctionImport>
</EntityContainer>
</Schema>
</edmx:DataServices>
</edmx:Edmx>
)EDMX";

}  // namespace

Result<http::Response> NuGetServiceDocument(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY_VOID(RouteSpace(ctx, req));  // 404 for a space that does not exist
  std::string root = FeedRoot(req);
  return http::Response::Text(
      200,
      fmt::format("<?xml version=\"1.0\" encoding=\"utf-8\"?><service xml:base=\"{}/\" "
                  "xmlns=\"http://www.w3.org/2007/app\" xmlns:atom=\"http://www.w3.org/2005/Atom\">"
                  "<workspace><atom:title>Default</atom:title><collection href=\"Packages\">"
                  "<atom:title>Packages</atom:title></collection></workspace></service>",
                  core::EscapeMarkup(root)),
      "application/xml; charset=utf-8");
}

Result<http::Response> NuGetQuery(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const std::string root = FeedRoot(req);
  const std::string& op = req.Param("op");
  if (op == "$metadata") {
    return http::Response::Text(200, std::string(kMetadata), "application/xml; charset=utf-8");
  }
  // Key lookup: Packages(Id='Hello.Lib',Version='1.0.0') (the path is already percent-decoded).
  if (op.starts_with("Packages(") && op != "Packages()") {
    auto id = LiteralAfter(op, "Id='");
    auto version = LiteralAfter(op, "Version='");
    if (!id || !version) {
      return Fail(Error::InvalidArgument("Expected Packages(Id='...',Version='...')."));
    }
    // Any spelling finds the stored version: nuget.exe tries 1.0, 1.0.0 and 1.0.0.0 in turn.
    CUTTLE_TRY(auto p, ctx.packages.Find(space, *id, *version));
    if (!p) return Fail(Error::NotFound("Package " + *id + " " + *version + " not found."));
    CUTTLE_TRY(auto entries, Entries(ctx, space, p->package_id));
    for (const auto& e : entries) {
      if (e.package.version == p->version) {
        std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>" + EntryXml(root, e);
        body.insert(body.find("<entry") + 6,
                    fmt::format(" xml:base=\"{}/\" {}", core::EscapeMarkup(root), kNamespaces));
        return http::Response::Text(200, std::move(body), std::string(kAtomEntry));
      }
    }
    return Fail(Error::NotFound("Package " + *id + " " + *version + " not found."));
  }
  std::string name = op.substr(0, op.find('('));
  std::optional<std::string> only_id;
  if (core::EqualsIgnoreCase(name, "FindPackagesById")) {
    auto id = req.Query("id");
    if (!id) return Fail(Error::InvalidArgument("FindPackagesById() needs an id parameter."));
    only_id = Unquote(*id);
  } else if (core::EqualsIgnoreCase(name, "GetUpdates")) {
    return FeedResponse(root, "GetUpdates", {});
  } else if (!core::EqualsIgnoreCase(name, "Packages") && !core::EqualsIgnoreCase(name, "Search")) {
    return Fail(Error::NotFound("The resource '" + req.path + "' was not found."));
  }
  CUTTLE_TRY(auto entries, Entries(ctx, space, only_id));
  return Query(req, root, name, entries);
}

Result<http::Response> NuGetDownload(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto p, ctx.packages.Find(space, req.Param("id"), req.Param("version")));
  if (!p) return Fail(Error::NotFound("The package was not found."));
  return ServePackageFile(ctx, req, *p, "application/zip");
}

Result<http::Response> NuGetPush(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto mode, feed::ParseOverwriteMode(req.Query("overwriteMode"), req.Query("replace")));
  CUTTLE_TRY(auto r, ReceivePackage(ctx, req, space, mode));
  return http::Response::Text(r.created ? 201 : 200, "");
}

Result<http::Response> NuGetDelete(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto p, ctx.packages.Find(space, req.Param("id"), req.Param("version")));
  if (!p) return Fail(Error::NotFound("The package was not found."));
  CUTTLE_TRY_VOID(ctx.packages.Delete(*p));
  return http::Response::Text(204, "");
}

}  // namespace cuttle::api
