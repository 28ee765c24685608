#include "api/handlers.h"
#include "core/strings.h"

namespace cuttle::api {

namespace {
json NodeJson(const repo::NodeRow& n) {
  json j = {{"Id", n.id},
            {"Name", n.name},
            {"MaxConcurrentTasks", n.max_concurrent_tasks},
            {"IsInMaintenanceMode", n.is_in_maintenance_mode},
            {"LastSeen", core::FormatIso8601(n.last_seen)},
            {"IsOffline", n.is_offline},
            {"RunningTaskCount", n.running_task_count},
            {"Version", n.version},
            {"LastModifiedOn",
             n.last_modified_on ? json(core::FormatIso8601(*n.last_modified_on)) : json(nullptr)},
            {"LastModifiedBy", n.last_modified_by ? json(*n.last_modified_by) : json(nullptr)},
            {"Links",
             {{"Self", "/api/octopusservernodes/" + n.id},
              {"Details", "/api/octopusservernodes/" + n.id + "/details"}}}};
  return j;
}

int64_t Timeout(ApiContext& ctx) { return ctx.options.node_timeout_ms; }

Result<std::vector<json>> FilteredNodes(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto nodes, repo::ListNodes(ctx.db, Timeout(ctx)));
  std::vector<json> out;
  for (const auto& n : nodes) {
    if (MatchesListFilters(req, n.id, n.name)) out.push_back(NodeJson(n));
  }
  return out;
}

Result<repo::NodeRow> FindOr404(ApiContext& ctx, const std::string& id) {
  CUTTLE_TRY(auto node, repo::FindNode(ctx.db, id, Timeout(ctx)));
  if (!node) return Fail(Error::NotFound("server node", id));
  return *node;
}
}  // namespace

http::Response PingNode(ApiContext& ctx, http::Request&) {
  // Answered from memory: the load balancer probes this many times a second on every node.
  const auto& reg = ctx.registry;
  repo::NodeRow row = reg.row();
  bool offline = reg.offline() || reg.stopping();
  json body = {{"Id", row.id},
               {"Name", row.name},
               {"IsInMaintenanceMode", row.is_in_maintenance_mode},
               {"IsOffline", offline},
               {"LastSeen", core::FormatIso8601(row.last_seen)},
               {"MaxConcurrentTasks", row.max_concurrent_tasks},
               {"Version", row.version},
               {"Links", {{"Self", "/api/octopusservernodes/ping"}}}};
  // 418 takes a draining (or stopping) node out of rotation; 503 one that has lost the database
  // for longer than the node timeout, which the rest of the cluster already treats as dead.
  int status = 200;
  if (row.is_in_maintenance_mode || reg.stopping()) {
    status = 418;
  } else if (offline) {
    status = 503;
  }
  return http::Response::Json(status, body);
}

http::Response ListNodes(ApiContext& ctx, http::Request& req) {
  auto paging = ReadPaging(req);
  if (!paging) return http::Response::FromError(paging.error());
  auto items = FilteredNodes(ctx, req);
  if (!items) return http::Response::FromError(items.error());
  return http::Response::Json(
      200, Collection("OctopusServerNode", "/api/octopusservernodes", *items, *paging));
}

http::Response ListAllNodes(ApiContext& ctx, http::Request& req) {
  auto items = FilteredNodes(ctx, req);
  if (!items) return http::Response::FromError(items.error());
  return http::Response::Json(200, json(*items));
}

http::Response GetNode(ApiContext& ctx, http::Request& req) {
  auto node = FindOr404(ctx, req.Param("id"));
  if (!node) return http::Response::FromError(node.error());
  return http::Response::Json(200, NodeJson(*node));
}

http::Response GetNodeDetails(ApiContext& ctx, http::Request& req) {
  auto node = FindOr404(ctx, req.Param("id"));
  if (!node) return http::Response::FromError(node.error());
  return http::Response::Json(200, {{"RunningTasks", node->running_task_count}});
}

http::Response UpdateNode(ApiContext& ctx, http::Request& req, const repo::UserRow& user) {
  auto body = ParseJsonObject(req);
  if (!body) return http::Response::FromError(body.error());
  repo::NodeUpdate update;
  update.modified_by = user.username;
  std::vector<std::string> errors;
  if (const json* cap = FindProperty(*body, "MaxConcurrentTasks"); cap && !cap->is_null()) {
    if (!cap->is_number_integer() || cap->get<int64_t>() < 0 || cap->get<int64_t>() > 1000) {
      errors.push_back("MaxConcurrentTasks must be a whole number from 0 to 1000 (got " +
                       cap->dump() + ").");
    } else {
      update.max_concurrent_tasks = cap->get<int>();
    }
  }
  if (const json* drain = FindProperty(*body, "IsInMaintenanceMode"); drain && !drain->is_null()) {
    if (!drain->is_boolean()) {
      errors.push_back("IsInMaintenanceMode must be true or false (got " + drain->dump() + ").");
    } else {
      update.is_in_maintenance_mode = drain->get<bool>();
    }
  }
  if (!errors.empty()) {
    return http::Response::Error(400, "There was a problem with your request.", errors);
  }
  auto node = repo::UpdateNode(ctx.db, req.Param("id"), update, Timeout(ctx));
  if (!node) return http::Response::FromError(node.error());
  if (!*node) return http::Response::FromError(Error::NotFound("server node", req.Param("id")));
  return http::Response::Json(200, NodeJson(**node));
}

http::Response DeleteNode(ApiContext& ctx, http::Request& req) {
  auto deleted = repo::DeleteNode(ctx.db, req.Param("id"));
  if (!deleted) return http::Response::FromError(deleted.error());
  if (!*deleted) return http::Response::FromError(Error::NotFound("server node", req.Param("id")));
  return http::Response::Json(200, json::object());
}

http::Response NodesSummary(ApiContext& ctx, http::Request&) {
  auto nodes = repo::ListNodes(ctx.db, Timeout(ctx));
  if (!nodes) return http::Response::FromError(nodes.error());
  json items = json::array();
  for (const auto& n : *nodes) {
    json j = NodeJson(n);
    j.erase("Links");
    items.push_back(std::move(j));
  }
  return http::Response::Json(
      200, {{"Nodes", std::move(items)}, {"Links", {{"Self", "/api/octopusservernodes/summary"}}}});
}

}  // namespace cuttle::api
