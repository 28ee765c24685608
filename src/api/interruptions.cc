// Interruptions (/interruptions, space-scoped): manual interventions and guided-failure prompts a
// parked deployment waits on (reference-octopus-deployment-model.md §2.15; docs/engine.md, "The
// interruptions API and the details tree"). The store is deploy/interruptions.h; an answer
// un-parks the task in the answer's transaction, so any node may resume it.
#include "deploy/interruptions.h"

#include <fmt/format.h>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/ids.h"
#include "core/strings.h"
#include "model/interruption.h"
#include "repo/deployments.h"
#include "repo/runbooks.h"
#include "repo/users.h"

namespace cuttle::api {

namespace {

// The tasks `regarding` names: task ids as they are, a deployment's or a runbook run's task, each
// of a comma-separated list. An id of another kind, or an unknown one, names no task.
Result<std::vector<std::string>> RegardingTasks(ApiContext& ctx, const std::string& space,
                                                std::string_view regarding) {
  std::vector<std::string> out;
  for (const auto& raw : core::Split(regarding, ',')) {
    std::string id(core::Trim(raw));
    if (id.empty()) continue;
    if (auto n = core::ParseId("ServerTasks", id)) {
      out.push_back(core::MakeId("ServerTasks", *n));
    } else if (core::ParseId("Deployments", id)) {
      CUTTLE_TRY(auto d, repo::FindDeployment(ctx.db, space, id));
      if (d) out.push_back(d->task_id);
    } else if (core::ParseId("RunbookRuns", id)) {
      CUTTLE_TRY(auto r, repo::FindRunbookRun(ctx.db, space, id));
      if (r) out.push_back(r->task_id);
    }
  }
  if (out.empty()) out.push_back("");  // named something, found nothing: matches no task
  return out;
}

Result<deploy::Interruption> FindOr404(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const std::string& id = req.Param("id");
  if (!core::ParseId("Interruptions", id)) return Fail(Error::NotFound("interruption", id));
  CUTTLE_TRY(auto found, deploy::GetInterruption(ctx.db, id));
  if (!found || !core::EqualsIgnoreCase(found->space_id, space)) {
    return Fail(Error::NotFound("interruption", id));
  }
  return std::move(*found);
}

http::Response One(const http::Request& req, const deploy::Interruption& i) {
  return http::Response::Json(200, model::InterruptionJson(i, Caller(req).id));
}

// The responsible user's resource; 404 while nobody is.
Result<http::Response> Responsible(ApiContext& ctx, const http::Request& req,
                                   const deploy::Interruption& i) {
  if (i.responsible_user_id.empty()) {
    return Fail(Error::NotFound(fmt::format("Nobody is responsible for {} yet.", i.id)));
  }
  CUTTLE_TRY(auto user, repo::FindUserById(ctx.db, i.responsible_user_id));
  if (!user) return Fail(Error::NotFound("user", i.responsible_user_id));
  return http::Response::Json(200,
                              UserJson(*user, core::EqualsIgnoreCase(user->id, Caller(req).id)));
}

}  // namespace

Result<http::Response> ListInterruptions(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  deploy::InterruptionFilter f;
  f.space_id = space;
  CUTTLE_TRY(f.page, ReadListParams(req));
  if (auto regarding = req.Query("regarding"); regarding && !core::Trim(*regarding).empty()) {
    CUTTLE_TRY(f.task_ids, RegardingTasks(ctx, space, *regarding));
  }
  if (auto pending = req.Query("pendingOnly"); pending && !pending->empty()) {
    if (!core::EqualsIgnoreCase(*pending, "true") && !core::EqualsIgnoreCase(*pending, "false")) {
      return Fail(Error::InvalidArgument("The pendingOnly parameter must be true or false."));
    }
    f.pending_only = core::EqualsIgnoreCase(*pending, "true");
  }
  CUTTLE_TRY(auto page, deploy::ListInterruptions(ctx.db, f));
  const std::string caller = Caller(req).id;
  return ListResponse<deploy::Interruption>(
      "Interruption", req, page, f.page,
      [&](const deploy::Interruption& i) { return model::InterruptionJson(i, caller); });
}

Result<http::Response> GetInterruption(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto i, FindOr404(ctx, req));
  return One(req, i);
}

Result<http::Response> GetInterruptionResponsible(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto i, FindOr404(ctx, req));
  return Responsible(ctx, req, i);
}

// PUT /responsible (no body): the caller takes responsibility, also from another user; 409 once
// answered. Answers the responsible user, as GET does.
Result<http::Response> TakeInterruptionResponsibility(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto i, FindOr404(ctx, req));
  CUTTLE_TRY(auto taken, deploy::TakeResponsibility(ctx.db, i.id, Caller(req).id));
  return Responsible(ctx, req, taken);
}

// POST /submit with the form's values ({"Result": "Proceed", "Notes": ...} or {"Guidance":
// "Retry"}): 400 for an answer the form does not offer, 409 when already answered or another user
// is responsible. The answer, the task's release and the audit event commit together.
Result<http::Response> SubmitInterruption(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto i, FindOr404(ctx, req));
  CUTTLE_TRY(auto body, ReadBody(req));
  CUTTLE_TRY(
      auto answered,
      deploy::SubmitInterruption(
          ctx.db, ctx.queue, i.id, Caller(req).id, body,
          [&](db::Transaction& tx, const deploy::Interruption& done) -> Result<void> {
            std::vector<std::string> documents{done.id, done.task_id};
            // Named: a range-for over a member of a temporary reads freed memory (the
            // temporary dies before the loop runs; found by ASan).
            const nlohmann::json resource = model::InterruptionJson(done, "");
            for (const auto& d : resource.value("RelatedDocumentIds", nlohmann::json::array())) {
              const std::string id = d.get<std::string>();
              if (id != done.task_id) documents.push_back(id);
            }
            CUTTLE_TRY_VOID(
                RecordEvent(tx, req, done.space_id, "InterruptionSubmitted",
                            fmt::format("{} submitted {} for \"{}\".", Caller(req).username,
                                        deploy::Answer(done), done.title),
                            std::move(documents)));
            return {};
          }));
  return One(req, answered);
}

}  // namespace cuttle::api
