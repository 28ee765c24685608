#include "repo/nodes.h"

#include <fmt/format.h>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "model/node.h"

namespace cuttle::api {

namespace {
int64_t Timeout(ApiContext& ctx) { return ctx.options.node_timeout_ms; }

Result<repo::NodeRow> FindOr404(ApiContext& ctx, const std::string& id) {
  CUTTLE_TRY(auto node, repo::FindNode(ctx.db, id, Timeout(ctx)));
  if (!node) return Fail(Error::NotFound("server node", id));
  return *node;
}
}  // namespace

Result<http::Response> PingNode(ApiContext& ctx, http::Request&) {
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
  // for longer than the node timeout, which the rest of the cluster already treats as dead. Both
  // carry the node's document, which the load balancer's probe and operators read: they are
  // answers, not errors.
  int status = 200;
  if (row.is_in_maintenance_mode || reg.stopping()) {
    status = 418;
  } else if (offline) {
    status = 503;
  }
  return http::Response::Json(status, body);
}

Result<http::Response> ListNodes(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto page, repo::ListNodes(ctx.db, Timeout(ctx), q));
  return ListResponse<repo::NodeRow>("OctopusServerNode", req, page, q, model::NodeJson);
}

Result<http::Response> ListAllNodes(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto q, ReadListParams(req));
  CUTTLE_TRY(auto rows, repo::ListAllNodes(ctx.db, Timeout(ctx), q));
  return AllResponse<repo::NodeRow>(rows, model::NodeJson);
}

Result<http::Response> GetNode(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto node, FindOr404(ctx, req.Param("id")));
  return http::Response::Json(200, model::NodeJson(node));
}

Result<http::Response> GetNodeDetails(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto node, FindOr404(ctx, req.Param("id")));
  return http::Response::Json(200, {{"RunningTasks", node.running_task_count}});
}

Result<http::Response> UpdateNode(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto body, ReadBody(req));
  Binder b(body);
  repo::NodeUpdate update;
  update.modified_by = Caller(req).username;
  if (const json* cap = b.Find("MaxConcurrentTasks"); cap && !cap->is_null()) {
    if (!cap->is_number_integer() || cap->get<int64_t>() < 0 || cap->get<int64_t>() > 1000) {
      b.Problem("MaxConcurrentTasks must be a whole number from 0 to 1000 (got " + cap->dump() +
                ").");
    } else {
      update.max_concurrent_tasks = cap->get<int>();
    }
  }
  if (const json* drain = b.Find("IsInMaintenanceMode"); drain && !drain->is_null()) {
    if (!drain->is_boolean()) {
      b.Problem("IsInMaintenanceMode must be true or false (got " + drain->dump() + ").");
    } else {
      update.is_in_maintenance_mode = drain->get<bool>();
    }
  }
  CUTTLE_TRY_VOID(b.Finish("server node"));
  CUTTLE_TRY(auto node, repo::UpdateNode(ctx.db, req.Param("id"), update, Timeout(ctx)));
  if (!node) return Fail(Error::NotFound("server node", req.Param("id")));
  return http::Response::Json(200, model::NodeJson(*node));
}

Result<http::Response> DeleteNode(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(bool deleted, repo::DeleteNode(ctx.db, req.Param("id")));
  if (!deleted) return Fail(Error::NotFound("server node", req.Param("id")));
  return http::Response::Json(200, json::object());
}

// Polled by the portal's Nodes page every second, so it answers under an ETag: the SHA-256 of
// the body. LastSeen is given to the whole second (the page shows seconds; the milliseconds of a
// heartbeat would change the tag on every beat for nothing). A live node still heartbeats every
// heartbeat_ms (1 s by default), so while nodes are live the tag moves about once a second and
// the 304 saves most when nothing heartbeats (a stopped cluster's rows) or heartbeat_ms is longer
// than the poll; the page's "seen N s ago" column is what makes the body change that often.
Result<http::Response> NodesSummary(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto nodes, repo::ListAllNodes(ctx.db, Timeout(ctx)));
  json items = json::array();
  for (auto& n : nodes) {
    n.last_seen -= n.last_seen % 1000;
    json j = model::NodeJson(n);
    j.erase("Links");
    items.push_back(std::move(j));
  }
  json body = {{"Nodes", std::move(items)},
               {"Links", {{"Self", "/api/octopusservernodes/summary"}}}};
  auto text = std::make_shared<const std::string>(body.dump());
  // The installation id keeps one database's tag from matching another's.
  const std::string etag =
      fmt::format("\"nodes-{}-{}\"", ctx.installation_id, crypto::Sha256Hex(*text).substr(0, 32));
  return TaggedAnswer(req, etag, std::move(text));
}

}  // namespace cuttle::api
