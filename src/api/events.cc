// The audit log: /api/events and /api/{spaceId}/events (read-only; events are written by
// RecordEvent in the transaction of each change).
#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"
#include "model/event.h"

namespace cuttle::api {

namespace {

std::optional<std::vector<std::string>> ListQuery(const http::Request& req, const char* name) {
  auto v = req.Query(name);
  if (!v) return std::nullopt;
  return core::Split(*v, ',');
}

Result<std::optional<int64_t>> TimeQuery(const http::Request& req, const char* name) {
  auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<int64_t>();
  // A bare date means its midnight (UTC).
  std::string text = v->size() == 10 ? *v + "T00:00:00Z" : *v;
  auto ms = core::ParseIso8601(text);
  if (!ms) {
    return Fail(Error::InvalidArgument("The " + std::string(name) + " parameter '" + *v +
                                       "' is not an ISO-8601 date and time."));
  }
  return std::optional<int64_t>(*ms);
}

// Octopus's filters: regarding (all of these documents), regardingAny (any of them), user/users,
// eventCategories, documentTypes (about a document of any of these types: "Users", "Projects"...),
// spaces, projects and environments (events about any of them), from, to.
Result<repo::EventFilter> ReadEventFilter(ApiContext& ctx, const http::Request& req) {
  repo::EventFilter f;
  f.regarding_all = ListQuery(req, "regarding");
  f.regarding = ListQuery(req, "regardingAny");
  for (const char* documents : {"projects", "environments", "projectGroups"}) {
    if (auto ids = ListQuery(req, documents)) f.regarding_any_groups.push_back(std::move(*ids));
  }
  f.users = ListQuery(req, "users");
  if (auto user = req.Query("user")) {
    if (!f.users) f.users.emplace();
    f.users->push_back(*user);
  }
  f.categories = ListQuery(req, "eventCategories");
  f.document_types = ListQuery(req, "documentTypes");
  for (const auto& type : f.document_types.value_or(std::vector<std::string>{})) {
    if (type.empty() ||
        type.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
            std::string::npos) {
      return Fail(Error::InvalidArgument(std::string("The documentTypes parameter's '") + type +
                                         "' is not a document type (letters only, as in Users)."));
    }
  }
  if (!req.Param("spaceId").empty()) {
    CUTTLE_TRY(auto space, RouteSpace(ctx, req));
    f.spaces = std::vector<std::string>{space};
  } else {
    f.spaces = ListQuery(req, "spaces");
  }
  CUTTLE_TRY(f.from, TimeQuery(req, "from"));
  CUTTLE_TRY(f.to, TimeQuery(req, "to"));
  return f;
}

}  // namespace

Result<http::Response> ListEvents(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto f, ReadEventFilter(ctx, req));
  CUTTLE_TRY(auto page, repo::ListEvents(ctx.db, f, q));
  return ListResponse<repo::EventRow>("Event", req, page, q, model::EventJson);
}

Result<http::Response> GetEvent(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto e, repo::FindEvent(ctx.db, req.Param("id")));
  if (!e) return Fail(Error::NotFound("event", req.Param("id")));
  if (!req.Param("spaceId").empty()) {
    CUTTLE_TRY(auto space, RouteSpace(ctx, req));
    if (e->space_id != space) return Fail(Error::NotFound("event", req.Param("id")));
  }
  return http::Response::Json(200, model::EventJson(*e));
}

// What documentTypes can name: the prefixes of the ids of documents events are recorded about.
Result<http::Response> ListEventDocumentTypes(ApiContext&, http::Request&) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"APIKeys", "API keys"},
      {"Channels", "Channels"},
      {"Deployments", "Deployments"},
      {"Environments", "Environments"},
      {"Interruptions", "Interruptions"},
      {"LibraryVariableSets", "Library variable sets"},
      {"Lifecycles", "Lifecycles"},
      {"MachinePolicies", "Machine policies"},
      {"Machines", "Deployment targets"},
      {"ProjectGroups", "Project groups"},
      {"Projects", "Projects"},
      {"Releases", "Releases"},
      {"RunbookRuns", "Runbook runs"},
      {"Runbooks", "Runbooks"},
      {"ServerTasks", "Tasks"},
      {"Spaces", "Spaces"},
      {"Users", "Users"},
  };
  json out = json::array();
  for (auto [id, name] : kTypes) out.push_back({{"Id", id}, {"Name", name}});
  return http::Response::Json(200, out);
}

Result<http::Response> ListEventCategories(ApiContext&, http::Request&) {
  json out = json::array();
  for (auto c : model::kEventCategories) out.push_back({{"Id", c}, {"Name", c}});
  return http::Response::Json(200, out);
}

}  // namespace cuttle::api
