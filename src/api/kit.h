// The resource kit: what every resource family of the API is written with, so that a family is
// its model (src/model/), its repository (src/repo/) and a page of handlers that only say what is
// particular to it.
//
//  - Handlers return Result<http::Response>; only the route adapter (routes.cc) turns an error
//    into an Octopus error response, so no handler spells a status for a failure.
//  - Every route declares the Octopus permission it needs; Authorize is the one check.
//  - ReadListParams + ListResponse: paging and the common filters run in SQL (repo/page.h); the
//    collection shape is built here and nowhere else.
//  - Binder: reads a JSON body, collecting every field's problem into one 400.
//  - RecordEvent: the audit event of a change, in the change's transaction.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/common.h"
#include "db/database.h"
#include "repo/events.h"
#include "repo/page.h"

namespace cuttle::api {

// Octopus's permission names (reference-octopus-portal-security.md). A route needs exactly one.
enum class Permission {
  kNone,  // anonymous routes: ping, /api, NuGet reads
  kAdministerSystem,
  kConfigureServer,
  kSpaceView,
  kSpaceCreate,
  kSpaceEdit,
  kSpaceDelete,
  kEnvironmentView,
  kEnvironmentCreate,
  kEnvironmentEdit,
  kEnvironmentDelete,
  kLifecycleView,
  kLifecycleCreate,
  kLifecycleEdit,
  kLifecycleDelete,
  kProjectGroupView,
  kProjectGroupCreate,
  kProjectGroupEdit,
  kProjectGroupDelete,
  kProjectView,
  kProjectCreate,
  kProjectEdit,
  kProjectDelete,
  kProcessView,
  kProcessEdit,
  kVariableView,
  kVariableEdit,
  kLibraryVariableSetView,
  kLibraryVariableSetCreate,
  kLibraryVariableSetEdit,
  kLibraryVariableSetDelete,
  kMachineView,
  kMachineCreate,
  kMachineEdit,
  kMachineDelete,
  kMachinePolicyView,
  kReleaseView,
  kReleaseCreate,
  kReleaseEdit,
  kReleaseDelete,
  kDeploymentView,
  kDeploymentCreate,
  kDeploymentDelete,
  kRunbookView,
  kRunbookEdit,
  kRunbookRunView,
  kRunbookRunCreate,
  kTaskView,
  kTaskCreate,
  kTaskCancel,
  kTaskEdit,
  kEventView,
  kInterruptionView,
  kInterruptionSubmit,
  kFeedView,
  kBuiltInFeedPush,
  kBuiltInFeedDownload,
  kBuiltInFeedAdminister,
  kArtifactView,
  kArtifactDelete,
  kUserView,
  kUserEdit,
};
const char* PermissionName(Permission p);

// Whether `user` holds `p` in `space_id` (empty: a cluster-wide route). The one place permissions
// are decided: today every active user is an administrator and holds every permission; the
// permission model (users, teams, roles) fills this in without a change to any route or handler.
Result<void> Authorize(const repo::UserRow& user, Permission p, std::string_view space_id);

// A route's admission: authenticates as `access` says, then Authorize()s `permission` in the
// route's space ({spaceId}, else the default space).
http::Admission Gate(ApiContext& ctx, Access access, Permission permission);

// What a handler is: the route adapter answers an error with Response::FromError.
using KitHandler = Result<http::Response> (*)(ApiContext& ctx, http::Request& req);

// --- reading requests ---

// skip, take (default 30), ids (comma-joined), partialName; bad numbers are 400.
Result<repo::PageQuery> ReadListParams(const http::Request& req);

// The space a space-scoped route names ({spaceId}), else the default space; 404 if it does not
// exist. Returns the canonical id.
Result<std::string> RouteSpace(ApiContext& ctx, const http::Request& req);

// --- answering ---

// Octopus's collection of one page: Items, TotalResults, ItemsPerPage, NumberOfPages,
// LastPageNumber, ItemType, Links (Self, Template, Page.All, Page.Current, Page.Next when there is
// one, Page.Last). `self_path` is the collection's path without query.
nlohmann::json CollectionJson(std::string_view item_type, std::string_view self_path,
                              nlohmann::json items, int64_t total, const repo::PageQuery& q);

template <class Row>
http::Response ListResponse(std::string_view item_type, const http::Request& req,
                            const repo::Page<Row>& page, const repo::PageQuery& q,
                            const std::function<nlohmann::json(const Row&)>& to_json) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& row : page.items) items.push_back(to_json(row));
  return http::Response::Json(200,
                              CollectionJson(item_type, req.path, std::move(items), page.total, q));
}

// A polled resource's answer under an entity tag: sets ETag and "Cache-Control: no-cache"
// (revalidate on every use), and answers 304 without a body when the request's If-None-Match
// lists `etag`. `body` may be null when the caller already knows the tag matches. Used by the
// dashboard and the nodes summary, which the portal polls every second.
http::Response TaggedAnswer(const http::Request& req, const std::string& etag,
                            std::shared_ptr<const std::string> body);

// True when the request's If-None-Match lists `etag`.
bool ClientHasTag(const http::Request& req, const std::string& etag);

// The `/all` form: a bare array.
template <class Row>
http::Response AllResponse(const std::vector<Row>& rows,
                           const std::function<nlohmann::json(const Row&)>& to_json) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& row : rows) items.push_back(to_json(row));
  return http::Response::Json(200, items);
}

// --- binding bodies ---

// Reads fields of a JSON object body (names matched case-insensitively, as clients send PascalCase
// or camelCase), recording every problem; Finish() returns one 400 listing all of them, so a
// client learns everything wrong with a request at once. A field's reader returns a usable value
// (the default) even when it records a problem, so binding goes on.
class Binder {
 public:
  explicit Binder(const nlohmann::json& body) : body_(body) {}

  bool Has(std::string_view name) const;
  const nlohmann::json* Find(std::string_view name) const;

  // A non-empty string (trimmed); "The X field is required." when missing, null or blank.
  std::string RequiredString(std::string_view name);
  std::string String(std::string_view name, std::string fallback = "");
  std::optional<std::string> OptionalString(std::string_view name);  // absent or null: nullopt
  bool Bool(std::string_view name, bool fallback = false);
  int64_t Int(std::string_view name, int64_t fallback = 0);
  std::vector<std::string> StringList(std::string_view name);  // absent or null: empty
  // One of `allowed` (case-insensitively; returned as spelled in `allowed`).
  std::string Enum(std::string_view name, const std::vector<std::string>& allowed,
                   std::string fallback);
  nlohmann::json Object(std::string_view name);  // absent or null: {}
  nlohmann::json Array(std::string_view name);   // absent or null: []

  // The Version an optimistic save was based on: required, so that a save made since is never
  // overwritten (the caller's conditional UPDATE ... WHERE version = it; stale → 409).
  int64_t ExpectedVersion();

  // Records a problem found outside the readers (a cross-field rule, an unknown reference).
  void Problem(std::string message) { problems_.push_back(std::move(message)); }
  bool ok() const { return problems_.empty(); }
  // InvalidArgument "The <what> could not be saved." with every problem as a detail, or success.
  Result<void> Finish(std::string_view what) const;

 private:
  const nlohmann::json& body_;
  std::vector<std::string> problems_;
};

// Copies the problems a Binder over a nested object found into `into`, each saying where:
// with prefix "Phases[1].", "The Name field is required." becomes "The Phases[1].Name field is
// required.".
void ForwardProblems(Binder& into, const Binder& nested, std::string_view prefix);

// --- auditing ---

// Writes the audit event of a change in `tx`: by the request's caller, in `space_id` (empty: a
// cluster-wide document), relating `documents` (the changed one first).
Result<repo::EventRow> RecordEvent(db::Transaction& tx, const http::Request& req,
                                   std::string_view space_id, std::string_view category,
                                   std::string message, std::vector<std::string> documents);

}  // namespace cuttle::api
