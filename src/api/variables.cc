// Variable sets (/variables/{id}) of projects and library variable sets, and the library variable
// sets themselves (reference-octopus-deployment-model.md §2.8). Sensitive values are sealed before
// they reach a statement and never leave in a response; a PUT is refused with 409 when the set has
// changed since the Version the client read.
#include "model/variables.h"

#include "api/handlers.h"
#include "api/kit.h"
#include "api/model_common.h"
#include "core/strings.h"
#include "model/process.h"
#include "model/project.h"
#include "repo/processes.h"
#include "repo/projects.h"
#include "repo/settings.h"
#include "repo/variable_sets.h"

namespace cuttle::api {

namespace {

using nlohmann::json;

const std::vector<std::string> kContentTypes = {"Variables", "ScriptModule"};

json Refs(const std::vector<repo::NamedRef>& refs) {
  json out = json::array();
  for (const auto& r : refs) out.push_back({{"Id", r.id}, {"Name", r.name}});
  return out;
}

// The actions of the project's deployment process, as {Id, Name}.
json ProcessActions(const repo::ProcessRow& p) {
  json out = json::array();
  for (const auto& s : p.steps) {
    if (!s.is_object() || !s.contains("Actions")) continue;
    for (const auto& a : s["Actions"]) {
      if (a.is_object()) out.push_back({{"Id", a.value("Id", "")}, {"Name", a.value("Name", "")}});
    }
  }
  return out;
}

// ScopeValues: what each scope of this set may name, so clients can show names for ids (and
// octopus-deploy finds environments by name here).
Result<json> ScopeValues(ApiContext& ctx, const repo::VariableSetRow& set,
                         const std::optional<repo::ProjectRow>& project) {
  CUTTLE_TRY(auto c, repo::ListScopeCandidates(ctx.db, set.space_id, project ? project->id : ""));
  json roles = json::array();
  for (const auto& r : c.roles) roles.push_back({{"Id", r}, {"Name", r}});
  json actions = json::array();
  json processes = json::array();
  if (project) {
    CUTTLE_TRY(auto process,
               repo::FindProcess(ctx.db, set.space_id, model::DeploymentProcessIdOf(project->id)));
    if (process) actions = ProcessActions(*process);
    processes.push_back(
        {{"Id", project->id}, {"Name", project->name}, {"ProcessType", "Deployment"}});
  }
  return json{{"Environments", Refs(c.environments)}, {"Machines", Refs(c.machines)},
              {"Actions", std::move(actions)},        {"Roles", std::move(roles)},
              {"Channels", Refs(c.channels)},         {"TenantTags", json::array()},
              {"Processes", std::move(processes)}};
}

template <class Exec>
Result<std::optional<repo::ProjectRow>> OwningProject(Exec& exec, const repo::VariableSetRow& set) {
  return repo::FindProject(exec, set.space_id, set.owner_id);
}

Result<repo::VariableSetRow> FindSet(ApiContext& ctx, const std::string& space,
                                     const std::string& id) {
  CUTTLE_TRY(auto set, repo::FindVariableSet(ctx.db, space, id));
  if (!set) return Fail(Error::NotFound("variable set", id));
  return std::move(*set);
}

// Checks what the variables' scopes name: environments and machines of the space; for a project's
// set its channels, the actions of its process and the project itself as process owner. Library
// variables cannot be scoped to actions, channels or processes.
Result<void> CheckScopes(db::Transaction& tx, const repo::VariableSetRow& set,
                         const std::optional<repo::ProjectRow>& project,
                         const model::VariableReferences& refs, Binder& b) {
  auto vec = [](const std::set<std::string>& s) {
    return std::vector<std::string>(s.begin(), s.end());
  };
  CUTTLE_TRY(auto envs,
             repo::MissingInSpace(tx, "environments", set.space_id, vec(refs.environments)));
  for (const auto& id : envs)
    b.Problem("The environment '" + id + "' does not exist in " + set.space_id + ".");
  CUTTLE_TRY(auto machines, repo::MissingInSpace(tx, "machines", set.space_id, vec(refs.machines)));
  for (const auto& id : machines)
    b.Problem("The machine '" + id + "' does not exist in " + set.space_id + ".");
  if (!project) {
    if (!refs.channels.empty() || !refs.actions.empty() || !refs.process_owners.empty()) {
      b.Problem("Library variables cannot be scoped to actions, channels or processes.");
    }
    return {};
  }
  CUTTLE_TRY(auto channels, repo::ProjectChannels(tx, project->id));
  for (const auto& id : refs.channels) {
    bool found = false;
    for (const auto& c : channels) found = found || core::EqualsIgnoreCase(c.id, id);
    if (!found) b.Problem("The channel '" + id + "' is not a channel of this project.");
  }
  if (!refs.actions.empty()) {
    CUTTLE_TRY(auto process,
               repo::FindProcess(tx, set.space_id, model::DeploymentProcessIdOf(project->id)));
    json actions = process ? ProcessActions(*process) : json::array();
    for (const auto& id : refs.actions) {
      bool found = false;
      for (const auto& a : actions) found = found || core::EqualsIgnoreCase(a.value("Id", ""), id);
      if (!found) b.Problem("The action '" + id + "' is not an action of this project's process.");
    }
  }
  for (const auto& id : refs.process_owners) {
    // Runbooks are process owners too (release-model adds them to this check).
    if (!core::EqualsIgnoreCase(id, project->id)) {
      b.Problem("The process owner '" + id + "' is not this project.");
    }
  }
  return {};
}

}  // namespace

Result<http::Response> GetVariableSet(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto set, FindSet(ctx, space, req.Param("id")));
  CUTTLE_TRY(auto project, OwningProject(ctx.db, set));
  CUTTLE_TRY(auto scope_values, ScopeValues(ctx, set, project));
  return http::Response::Json(200, model::VariableSetJson(set, std::move(scope_values)));
}

Result<http::Response> UpdateVariableSet(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  const int64_t expected = b.ExpectedVersion();
  json sent = b.Array("Variables");
  repo::VariableSetRow saved;
  std::optional<repo::ProjectRow> owner;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    Binder checks = b;
    CUTTLE_TRY(auto current, repo::FindVariableSet(tx, space, req.Param("id")));
    if (!current) return Fail(Error::NotFound("variable set", req.Param("id")));
    CUTTLE_TRY(owner, OwningProject(tx, *current));
    if (!owner) {
      // Only projects and library variable sets own editable sets; any other owner (a release's
      // snapshot) is frozen.
      CUTTLE_TRY(auto library,
                 repo::MissingInSpace(tx, "library_variable_sets", space, {current->owner_id}));
      if (!library.empty()) {
        return Fail(Error::InvalidArgument("The variable set " + current->id +
                                           " is a snapshot: it cannot be changed."));
      }
    }
    std::vector<std::string> problems;
    model::VariableReferences refs;
    repo::VariableSetRow next = *current;
    next.variables = model::MergeVariables(sent, current->variables, ctx.secrets, problems, refs);
    for (auto& p : problems) checks.Problem(std::move(p));
    CUTTLE_TRY_VOID(CheckScopes(tx, *current, owner, refs, checks));
    CUTTLE_TRY_VOID(checks.Finish("variable set"));
    CUTTLE_TRY(auto version, repo::UpdateVariableSet(tx, next, expected));
    if (!version) {
      return Fail(Error::Conflict(
          "The variable set was changed by someone else after you read it (you sent version " +
          std::to_string(expected) + "; reload it and apply your changes again)."));
    }
    next.version = *version;
    std::vector<std::string> named;
    for (const auto* ids : {&refs.environments, &refs.machines, &refs.channels}) {
      named.insert(named.end(), ids->begin(), ids->end());
    }
    CUTTLE_TRY_VOID(repo::ReplaceReferences(tx, next.id, named));
    // The message names the set, never a value.
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "The variable set " + next.id + " was modified.",
                                {next.id, next.owner_id}));
    saved = std::move(next);
    return {};
  }));
  CUTTLE_TRY(auto scope_values, ScopeValues(ctx, saved, owner));
  return http::Response::Json(200, model::VariableSetJson(saved, std::move(scope_values)));
}

// GET /variables/names?project=Projects-1: the names of the variables a project's deployments
// see (its own set and the library sets it includes), sorted, for editors' completion lists.
Result<http::Response> ListVariableNames(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  std::vector<std::string> set_ids;
  if (auto project_id = req.Query("project")) {
    CUTTLE_TRY(auto project, repo::FindProject(ctx.db, space, *project_id));
    if (!project) return Fail(Error::NotFound("project", *project_id));
    set_ids.push_back(model::VariableSetIdOf(project->id));
    for (const auto& l : project->included_library_variable_set_ids) {
      set_ids.push_back(model::VariableSetIdOf(l));
    }
  }
  std::set<std::string> names;
  for (const auto& id : set_ids) {
    CUTTLE_TRY(auto set, repo::FindVariableSet(ctx.db, space, id));
    if (!set) continue;
    for (const auto& v : set->variables) {
      if (v.is_object() && v.contains("Name") && v["Name"].is_string()) {
        names.insert(v["Name"].get<std::string>());
      }
    }
  }
  return http::Response::Json(200, json(names));
}

// --- library variable sets ---

namespace {

void BindLibrarySet(repo::LibraryVariableSetRow& l, Binder& b) {
  l.name = b.RequiredString("Name");
  l.content_type = b.Enum("ContentType", kContentTypes, "Variables");
  l.doc["Description"] = b.String("Description");
  l.doc["Templates"] = b.Array("Templates");
}

Result<void> CheckLibraryName(db::Transaction& tx, const repo::LibraryVariableSetRow& l) {
  CUTTLE_TRY(auto rs, tx.Execute("SELECT 1 FROM library_variable_sets WHERE space_id = $1 AND "
                                 "id <> $2 AND lower(name) = lower($3)",
                                 {l.space_id, l.id, l.name}));
  if (!rs.empty()) {
    return Fail(Error::Invalid(
        "The library variable set could not be saved.",
        {"A library variable set with the name '" + l.name + "' already exists in this space."}));
  }
  return {};
}

repo::LibraryVariableSetFilter LibraryFilter(const std::string& space, const http::Request& req) {
  return {space, req.Query("contentType")};
}

}  // namespace

Result<http::Response> ListLibraryVariableSets(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListLibraryVariableSets(ctx.db, LibraryFilter(space, req), q));
  return ListResponse<repo::LibraryVariableSetRow>("LibraryVariableSet", req, page, q,
                                                   model::LibraryVariableSetJson);
}

Result<http::Response> ListAllLibraryVariableSets(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllLibraryVariableSets(ctx.db, LibraryFilter(space, req), q));
  return AllResponse<repo::LibraryVariableSetRow>(rows, model::LibraryVariableSetJson);
}

Result<http::Response> GetLibraryVariableSet(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto l, repo::FindLibraryVariableSet(ctx.db, space, req.Param("id")));
  if (!l) return Fail(Error::NotFound("library variable set", req.Param("id")));
  return http::Response::Json(200, model::LibraryVariableSetJson(*l));
}

Result<http::Response> CreateLibraryVariableSet(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  repo::LibraryVariableSetRow created;
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    Binder b(body);
    repo::LibraryVariableSetRow l;
    l.space_id = space;
    BindLibrarySet(l, b);
    CUTTLE_TRY_VOID(b.Finish("library variable set"));
    CUTTLE_TRY(l.id, repo::NextId(tx, "LibraryVariableSets"));
    l.variable_set_id = model::VariableSetIdOf(l.id);
    CUTTLE_TRY_VOID(CheckLibraryName(tx, l));
    CUTTLE_TRY_VOID(repo::InsertLibraryVariableSet(tx, l));
    CUTTLE_TRY_VOID(
        repo::InsertVariableSet(tx, {l.variable_set_id, space, l.id, 0, json::array()}));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Created",
                                "Library variable set " + l.name + " was created.",
                                {l.id, l.variable_set_id}));
    created = std::move(l);
    return {};
  }));
  return http::Response::Json(201, model::LibraryVariableSetJson(created));
}

Result<http::Response> UpdateLibraryVariableSet(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  CUTTLE_TRY(auto current, repo::FindLibraryVariableSet(ctx.db, space, req.Param("id")));
  if (!current) return Fail(Error::NotFound("library variable set", req.Param("id")));
  json merged = model::LibraryVariableSetJson(*current);
  OverlayJson(merged, body);
  Binder b(merged);
  repo::LibraryVariableSetRow l = *current;
  BindLibrarySet(l, b);
  CUTTLE_TRY_VOID(b.Finish("library variable set"));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY_VOID(CheckLibraryName(tx, l));
    CUTTLE_TRY_VOID(repo::UpdateLibraryVariableSet(tx, l));
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Modified",
                                "Library variable set " + l.name + " was modified.", {l.id}));
    return {};
  }));
  return http::Response::Json(200, model::LibraryVariableSetJson(l));
}

Result<http::Response> DeleteLibraryVariableSet(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  CUTTLE_TRY(auto l, repo::FindLibraryVariableSet(ctx.db, space, req.Param("id")));
  if (!l) return Fail(Error::NotFound("library variable set", req.Param("id")));
  CUTTLE_TRY_VOID(ctx.db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    // Projects that include the set stop including it (Octopus does the same).
    CUTTLE_TRY(auto projects, repo::ProjectsIncluding(tx, l->id));
    CUTTLE_TRY_VOID(repo::DeleteReferencesOf(tx, {l->variable_set_id}));
    CUTTLE_TRY_VOID(repo::DeleteVariableSetsOf(tx, l->id));
    CUTTLE_TRY_VOID(repo::DeleteLibraryVariableSet(tx, l->id));
    std::vector<std::string> related{l->id, l->variable_set_id};
    related.insert(related.end(), projects.begin(), projects.end());
    CUTTLE_TRY_VOID(RecordEvent(tx, req, space, "Deleted",
                                "Library variable set " + l->name + " was deleted.", related));
    return {};
  }));
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::api
