#include "api/kit.h"

#include "api/handlers.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/strings.h"
#include "repo/spaces.h"

namespace cuttle::api {

using nlohmann::json;

const char* PermissionName(Permission p) {
  switch (p) {
    // clang-format off
    case Permission::kNone: return "None";
    case Permission::kAdministerSystem: return "AdministerSystem";
    case Permission::kConfigureServer: return "ConfigureServer";
    case Permission::kSpaceView: return "SpaceView";
    case Permission::kSpaceCreate: return "SpaceCreate";
    case Permission::kSpaceEdit: return "SpaceEdit";
    case Permission::kSpaceDelete: return "SpaceDelete";
    case Permission::kEnvironmentView: return "EnvironmentView";
    case Permission::kEnvironmentCreate: return "EnvironmentCreate";
    case Permission::kEnvironmentEdit: return "EnvironmentEdit";
    case Permission::kEnvironmentDelete: return "EnvironmentDelete";
    case Permission::kLifecycleView: return "LifecycleView";
    case Permission::kLifecycleCreate: return "LifecycleCreate";
    case Permission::kLifecycleEdit: return "LifecycleEdit";
    case Permission::kLifecycleDelete: return "LifecycleDelete";
    case Permission::kProjectGroupView: return "ProjectGroupView";
    case Permission::kProjectGroupCreate: return "ProjectGroupCreate";
    case Permission::kProjectGroupEdit: return "ProjectGroupEdit";
    case Permission::kProjectGroupDelete: return "ProjectGroupDelete";
    case Permission::kProjectView: return "ProjectView";
    case Permission::kProjectCreate: return "ProjectCreate";
    case Permission::kProjectEdit: return "ProjectEdit";
    case Permission::kProjectDelete: return "ProjectDelete";
    case Permission::kProcessView: return "ProcessView";
    case Permission::kProcessEdit: return "ProcessEdit";
    case Permission::kVariableView: return "VariableView";
    case Permission::kVariableEdit: return "VariableEdit";
    case Permission::kLibraryVariableSetView: return "LibraryVariableSetView";
    case Permission::kLibraryVariableSetCreate: return "LibraryVariableSetCreate";
    case Permission::kLibraryVariableSetEdit: return "LibraryVariableSetEdit";
    case Permission::kLibraryVariableSetDelete: return "LibraryVariableSetDelete";
    case Permission::kMachineView: return "MachineView";
    case Permission::kMachineCreate: return "MachineCreate";
    case Permission::kMachineEdit: return "MachineEdit";
    case Permission::kMachineDelete: return "MachineDelete";
    case Permission::kMachinePolicyView: return "MachinePolicyView";
    case Permission::kReleaseView: return "ReleaseView";
    case Permission::kReleaseCreate: return "ReleaseCreate";
    case Permission::kReleaseEdit: return "ReleaseEdit";
    case Permission::kReleaseDelete: return "ReleaseDelete";
    case Permission::kDeploymentView: return "DeploymentView";
    case Permission::kDeploymentCreate: return "DeploymentCreate";
    case Permission::kDeploymentDelete: return "DeploymentDelete";
    case Permission::kRunbookView: return "RunbookView";
    case Permission::kRunbookEdit: return "RunbookEdit";
    case Permission::kRunbookRunView: return "RunbookRunView";
    case Permission::kRunbookRunCreate: return "RunbookRunCreate";
    case Permission::kTaskView: return "TaskView";
    case Permission::kTaskCreate: return "TaskCreate";
    case Permission::kTaskCancel: return "TaskCancel";
    case Permission::kTaskEdit: return "TaskEdit";
    case Permission::kEventView: return "EventView";
    case Permission::kInterruptionView: return "InterruptionView";
    case Permission::kInterruptionSubmit: return "InterruptionSubmit";
    case Permission::kFeedView: return "FeedView";
    case Permission::kBuiltInFeedPush: return "BuiltInFeedPush";
    case Permission::kBuiltInFeedDownload: return "BuiltInFeedDownload";
    case Permission::kBuiltInFeedAdminister: return "BuiltInFeedAdminister";
    case Permission::kArtifactView: return "ArtifactView";
    case Permission::kArtifactDelete: return "ArtifactDelete";
    case Permission::kUserView: return "UserView";
    case Permission::kUserEdit: return "UserEdit";
      // clang-format on
  }
  return "Unknown";
}

Result<void> Authorize(const repo::UserRow& user, Permission p, std::string_view space_id) {
  (void)space_id;
  if (p == Permission::kNone) return {};
  // Every key belongs to an administrator until the permission model arrives (issue 13 and
  // later): an active user holds every permission in every space.
  if (user.is_active) return {};
  return Fail(Error::PermissionDenied(std::string("You do not have permission to perform this "
                                                  "action. Please contact your Octopus "
                                                  "administrator. Missing permission: ") +
                                      PermissionName(p)));
}

http::Admission Gate(ApiContext& ctx, Access access, Permission permission) {
  http::Admission authenticate = Gate(ctx, access);
  if (!authenticate) return nullptr;
  return [authenticate, permission](http::Request& req) -> std::optional<http::Response> {
    if (auto refused = authenticate(req)) return refused;
    const std::string& space = req.Param("spaceId");
    if (auto ok = Authorize(Caller(req), permission, space.empty() ? "Spaces-1" : space); !ok) {
      return http::Response::FromError(ok.error());
    }
    return std::nullopt;
  };
}

bool ClientHasTag(const http::Request& req, const std::string& etag) {
  auto match = req.Header("If-None-Match");
  return match && http::IfNoneMatch(*match, etag);
}

http::Response TaggedAnswer(const http::Request& req, const std::string& etag,
                            std::shared_ptr<const std::string> body) {
  const bool not_modified = body == nullptr || ClientHasTag(req, etag);
  auto r = not_modified ? http::Response::Text(304, "")
                        : http::Response::Text(200, "", "application/json; charset=utf-8");
  if (!not_modified) r.shared_body = std::move(body);
  r.SetHeader("ETag", etag);
  r.SetHeader("Cache-Control", "no-cache");
  return r;
}

Result<repo::PageQuery> ReadListParams(const http::Request& req) {
  repo::PageQuery q;
  // Huge values such as 2147483647 are fine; negative or non-numeric ones are 400.
  for (auto [name, target] : {std::pair{"skip", &q.skip}, std::pair{"take", &q.take}}) {
    auto v = req.Query(name);
    if (!v || v->empty()) continue;
    auto n = core::ParseInt(*v);
    if (!n || *n < 0) {
      return Fail(Error::InvalidArgument(std::string("The '") + name +
                                         "' parameter must be a non-negative integer."));
    }
    *target = *n;
  }
  if (auto ids = req.Query("ids")) q.ids = core::Split(*ids, ',');
  q.partial_name = req.Query("partialName");
  return q;
}

Result<std::string> RouteSpace(ApiContext& ctx, const http::Request& req) {
  const std::string& id = req.Param("spaceId");
  if (id.empty()) return std::string("Spaces-1");
  if (!core::ParseId("Spaces", id)) return Fail(Error::NotFound("space", id));
  CUTTLE_TRY(auto space, repo::FindSpace(ctx.db, id));
  if (!space) return Fail(Error::NotFound("space", id));
  return space->id;
}

json CollectionJson(std::string_view item_type, std::string_view self_path, json items,
                    int64_t total, const repo::PageQuery& q) {
  const std::string self(self_path);
  const int64_t pages = PageCount(total, q.take);
  const int64_t last = pages > 0 ? pages - 1 : 0;
  auto page_link = [&](int64_t skip) {
    return self + "?skip=" + std::to_string(skip) + "&take=" + std::to_string(q.take);
  };
  json links = {{"Self", page_link(q.skip)},
                {"Template", self + "{?skip,take,ids,partialName}"},
                {"Page.All", self + "/all"},
                {"Page.Current", page_link(q.skip)},
                {"Page.Last", page_link(q.take > 0 ? last * q.take : 0)}};
  // Guard the arithmetic: take may be near INT64_MAX.
  if (q.take > 0 && q.skip <= total && total - q.skip > q.take) {
    links["Page.Next"] = page_link(q.skip + q.take);
  }
  return json{{"ItemType", item_type},    {"TotalResults", total},  {"ItemsPerPage", q.take},
              {"NumberOfPages", pages},   {"LastPageNumber", last}, {"Items", std::move(items)},
              {"Links", std::move(links)}};
}

// --- Binder ---

const json* Binder::Find(std::string_view name) const {
  return core::FindKeyIgnoreCase(body_, name);
}

bool Binder::Has(std::string_view name) const {
  const json* v = Find(name);
  return v != nullptr && !v->is_null();
}

std::string Binder::RequiredString(std::string_view name) {
  const json* v = Find(name);
  if (v == nullptr || v->is_null() ||
      (v->is_string() && core::Trim(v->get<std::string>()).empty())) {
    Problem("The " + std::string(name) + " field is required.");
    return "";
  }
  if (!v->is_string()) {
    Problem("The " + std::string(name) + " field must be a string.");
    return "";
  }
  return std::string(core::Trim(v->get<std::string>()));
}

std::optional<std::string> Binder::OptionalString(std::string_view name) {
  const json* v = Find(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    Problem("The " + std::string(name) + " field must be a string.");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::string Binder::String(std::string_view name, std::string fallback) {
  return OptionalString(name).value_or(std::move(fallback));
}

bool Binder::Bool(std::string_view name, bool fallback) {
  const json* v = Find(name);
  if (v == nullptr || v->is_null()) return fallback;
  if (v->is_boolean()) return v->get<bool>();
  // Octopus's property bags spell booleans as strings; accept them in typed fields too.
  if (v->is_string()) {
    const std::string s = core::ToLower(v->get<std::string>());
    if (s == "true") return true;
    if (s == "false") return false;
  }
  Problem("The " + std::string(name) + " field must be true or false.");
  return fallback;
}

int64_t Binder::Int(std::string_view name, int64_t fallback) {
  const json* v = Find(name);
  if (v == nullptr || v->is_null()) return fallback;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned() && v->get<uint64_t>() <= INT64_MAX) {
    return static_cast<int64_t>(v->get<uint64_t>());
  }
  Problem("The " + std::string(name) + " field must be an integer.");
  return fallback;
}

std::vector<std::string> Binder::StringList(std::string_view name) {
  const json* v = Find(name);
  std::vector<std::string> out;
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) {
    Problem("The " + std::string(name) + " field must be a list of strings.");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      Problem("The " + std::string(name) + " field must be a list of strings.");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string Binder::Enum(std::string_view name, const std::vector<std::string>& allowed,
                         std::string fallback) {
  auto value = OptionalString(name);
  if (!value) return fallback;
  for (const auto& a : allowed) {
    if (core::EqualsIgnoreCase(a, *value)) return a;
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Problem("The " + std::string(name) + " field must be one of " + list + ".");
  return fallback;
}

json Binder::Object(std::string_view name) {
  const json* v = Find(name);
  if (v == nullptr || v->is_null()) return json::object();
  if (!v->is_object()) {
    Problem("The " + std::string(name) + " field must be an object.");
    return json::object();
  }
  return *v;
}

json Binder::Array(std::string_view name) {
  const json* v = Find(name);
  if (v == nullptr || v->is_null()) return json::array();
  if (!v->is_array()) {
    Problem("The " + std::string(name) + " field must be a list.");
    return json::array();
  }
  return *v;
}

int64_t Binder::ExpectedVersion() {
  if (!Has("Version")) {
    Problem(
        "The Version field is required: send back the Version you read, so that a save made "
        "since is not overwritten.");
    return 0;
  }
  return Int("Version");
}

Result<void> Binder::Finish(std::string_view what) const {
  if (problems_.empty()) return {};
  std::string message = "The " + std::string(what) + " could not be saved: " + problems_.front();
  if (problems_.size() > 1) {
    message += " (and " + std::to_string(problems_.size() - 1) + " more problem" +
               (problems_.size() > 2 ? "s" : "") + ")";
  }
  return Fail(Error::Invalid(std::move(message), problems_));
}

void ForwardProblems(Binder& into, const Binder& nested, std::string_view prefix) {
  auto finished = nested.Finish("");
  if (finished) return;
  for (const auto& d : finished.error().details()) {
    into.Problem(d.starts_with("The ") ? "The " + std::string(prefix) + d.substr(4)
                                       : std::string(prefix) + d);
  }
}

Result<repo::EventRow> RecordEvent(db::Transaction& tx, const http::Request& req,
                                   std::string_view space_id, std::string_view category,
                                   std::string message, std::vector<std::string> documents) {
  const repo::UserRow& user = Caller(req);
  repo::EventRow e;
  if (!space_id.empty()) e.space_id = std::string(space_id);
  e.category = std::string(category);
  e.message = std::move(message);
  e.user_id = user.id;
  e.username = user.username;
  e.related_document_ids = std::move(documents);
  return repo::InsertEvent(tx, std::move(e));
}

}  // namespace cuttle::api
