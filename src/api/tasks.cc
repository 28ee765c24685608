#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers.h"
#include "api/kit.h"
#include "core/ids.h"
#include "core/strings.h"
#include "deploy/interruptions.h"
#include "deploy/units.h"
#include "model/task.h"
#include "model/task_details.h"
#include "tasks/task_kinds.h"
#include "tasks/task_log.h"

namespace cuttle::api {

namespace {
using tasks::Task;
using tasks::TaskState;

// The task named by the route, in the route's space; 404 for an unknown or malformed id.
Result<Task> FindTask(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const std::string& id = req.Param("id");
  if (!core::ParseId("ServerTasks", id)) return Fail(Error::NotFound("task", id));
  CUTTLE_TRY(auto task, ctx.queue.Get(id));
  bool scoped = !req.Param("spaceId").empty();
  if (!task || (scoped && !core::EqualsIgnoreCase(task->space_id, space))) {
    return Fail(Error::NotFound("task", id));
  }
  return *task;
}

Result<tasks::TaskFilter> ReadFilter(ApiContext& ctx, const http::Request& req) {
  tasks::TaskFilter f;
  CUTTLE_TRY(auto q, ReadListParams(req));
  f.skip = q.skip;
  f.take = q.take;
  if (!req.Param("spaceId").empty()) {
    CUTTLE_TRY(f.space_id, RouteSpace(ctx, req));
  } else if (auto space = req.Query("spaces")) {
    f.space_id = *space;
  }
  if (q.ids) {
    for (const auto& id : *q.ids) {
      if (!id.empty()) f.ids.push_back(id);
    }
  }
  if (auto states = req.Query("states")) {
    for (const auto& s : core::Split(*states, ',')) {
      auto st = tasks::ParseState(s);
      if (!st) {
        return Fail(Error::InvalidArgument(fmt::format(
            "'{}' is not a task state (expected Queued, Executing, Cancelling, Success, Failed, "
            "Canceled or TimedOut).",
            s)));
      }
      f.states.push_back(*st);
    }
  }
  if (auto node = req.Query("node"); node && !node->empty()) {
    // Octopus filters by the node's id (OctopusServerNodes-<name>); accept the bare name too.
    constexpr std::string_view kPrefix = "OctopusServerNodes-";
    f.node = core::EqualsIgnoreCase(node->substr(0, kPrefix.size()), kPrefix)
                 ? node->substr(kPrefix.size())
                 : *node;
  }
  if (auto name = req.Query("name"); name && !name->empty()) f.name = *name;
  auto flag = [&](const char* n) {
    auto v = req.Query(n);
    return v && core::EqualsIgnoreCase(*v, "true");
  };
  f.active = flag("active");
  f.running = flag("running");
  if (auto v = req.Query("hasPendingInterruptions"); v && !v->empty()) {
    if (!core::EqualsIgnoreCase(*v, "true") && !core::EqualsIgnoreCase(*v, "false")) {
      return Fail(
          Error::InvalidArgument("The hasPendingInterruptions parameter must be true or false."));
    }
    f.has_pending_interruptions = core::EqualsIgnoreCase(*v, "true");
  }
  return f;
}

// How much of a log /raw?limit= answers from `from`: the bytes up to and including the last
// newline within `limit` bytes, so a reader loading a big log in chunks gets whole lines; all
// `limit` bytes when one line is longer than that. The file is scanned backwards in small reads,
// so a large limit costs no large buffer.
Result<uint64_t> LengthToLastLine(const std::string& path,
                                  const std::optional<std::string>& recorded, uint64_t from,
                                  uint64_t limit) {
  if (recorded) {
    auto nl = std::string_view(*recorded).substr(from, limit).rfind('\n');
    return nl == std::string_view::npos ? limit : nl + 1;
  }
  constexpr uint64_t kWindow = 64 * 1024;
  uint64_t end = from + limit;  // exclusive; the caller made sure the log reaches it
  while (end > from) {
    uint64_t start = end - std::min(kWindow, end - from);
    CUTTLE_TRY(auto window, tasks::ReadLog(path, start, end - start));
    if (auto nl = window.rfind('\n'); nl != std::string::npos) return start + nl + 1 - from;
    end = start;
  }
  return limit;
}

// A task's JSON with its pending interruptions' types (model::TaskJson).
// The pending interruption types of those of `tasks` that are parked: an interruption is raised
// in the statement that parks its task, so no other task has one, and the tasks a client polls
// (ServerTaskWaiter) cost no query for it.
Result<std::map<std::string, std::vector<std::string>>> PendingTypesOfParked(
    ApiContext& ctx, const std::vector<Task>& tasks) {
  std::vector<std::string> parked;
  for (const auto& t : tasks) {
    if (t.parked) parked.push_back(t.id);
  }
  return deploy::PendingInterruptionTypes(ctx.db, parked);
}

Result<json> WithInterruptions(ApiContext& ctx, const Task& t) {
  CUTTLE_TRY(auto types, PendingTypesOfParked(ctx, {t}));
  auto it = types.find(t.id);
  return model::TaskJson(t, it == types.end() ? std::vector<std::string>() : it->second);
}
}  // namespace

Result<http::Response> ListTasks(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto filter, ReadFilter(ctx, req));
  CUTTLE_TRY(auto page, ctx.queue.List(filter));
  // An ids query answers every task it names in one page (TaskQueue::List).
  repo::PageQuery q;
  q.skip = filter.ids.empty() ? filter.skip : 0;
  q.take = filter.ids.empty() ? filter.take : static_cast<int64_t>(filter.ids.size());
  CUTTLE_TRY(auto types, PendingTypesOfParked(ctx, page.items));
  return ListResponse<Task>("Task", req, page, q, [&](const Task& t) {
    auto it = types.find(t.id);
    return model::TaskJson(t, it == types.end() ? std::vector<std::string>() : it->second);
  });
}

Result<http::Response> CreateTask(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto body, ReadBody(req));
  CUTTLE_TRY(auto space, RouteSpace(ctx, req));
  const tasks::TaskKinds& kinds = tasks::TaskKinds::Registry();
  Binder b(body);
  tasks::NewTask t;
  t.space_id = space;
  t.created_by = Caller(req).id;
  std::string creatable;
  for (const auto& name : kinds.CreatableByApi()) {
    creatable += (creatable.empty() ? "" : " or ") + name;
  }
  const json* name = b.Find("Name");
  if (!name || !name->is_string()) {
    return Fail(Error::Invalid("There was a problem with your request.",
                               {"Name is required: " + creatable + "."}));
  }
  const tasks::TaskKind* kind = kinds.Find(name->get<std::string>());
  if (!kind || !kind->creatable_by_api) {
    return Fail(Error::Invalid("There was a problem with your request.",
                               {"Tasks named '" + name->get<std::string>() +
                                "' cannot be created here (expected " + creatable + ")."}));
  }
  t.name = kind->name;
  t.idempotent = kind->idempotent;
  if (const json* args = b.Find("Arguments"); args && !args->is_null() && !args->is_object()) {
    b.Problem("Arguments must be a JSON object.");
  } else {
    t.arguments = b.Object("Arguments");
    for (auto& problem : kind->validate(t.arguments)) b.Problem(std::move(problem));
  }
  t.description = b.String("Description");
  if (t.description.empty()) t.description = kind->default_description;
  if (const json* e = b.Find("QueueTimeExpiry"); e && !e->is_null()) {
    auto ms = e->is_string() ? core::ParseIso8601(e->get<std::string>()) : std::nullopt;
    if (!ms) {
      b.Problem("QueueTimeExpiry must be an ISO 8601 date and time.");
    } else {
      t.queue_time_expiry = *ms;
    }
  }
  CUTTLE_TRY_VOID(b.Finish("task"));
  CUTTLE_TRY(auto task, ctx.queue.Enqueue(t));
  return http::Response::Json(201, model::TaskJson(task));
}

Result<http::Response> GetTask(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto task, FindTask(ctx, req));
  CUTTLE_TRY(auto body, WithInterruptions(ctx, task));
  return http::Response::Json(200, std::move(body));
}

Result<http::Response> GetTaskDetails(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto found, FindTask(ctx, req));
  const Task* task = &found;
  std::optional<int64_t> tail;
  if (auto t = req.Query("tail"); t && !t->empty()) {
    auto n = core::ParseInt(*t);
    if (!n || *n < 0) {
      return Fail(Error::InvalidArgument("The 'tail' parameter must be a non-negative integer."));
    }
    tail = *n;
  }
  constexpr uint64_t kMaxLog = 64 * 1024 * 1024;
  std::string path = tasks::TaskLogPath(ctx.options.tasklogs_dir, task->id);
  CUTTLE_TRY(auto recorded, ctx.queue.LogText(task->id));
  // A deployment's units, each with its own log file (deploy/units.h); none for other tasks.
  CUTTLE_TRY(auto units, deploy::UnitsOfTask(ctx.db, task->id));
  std::string text;
  std::vector<std::string> unit_logs;
  uint64_t log_size = 0;
  std::optional<bool> task_warnings;
  std::vector<bool> unit_warnings;
  if (tail && *tail == 0) {
    // The tree alone (the portal polls it every second while a task runs): whether each log has
    // a warning line, from what was appended since the last poll (tasks::WarningScanCache).
    if (recorded) {
      task_warnings = tasks::HasWarningLine(*recorded);
      log_size = recorded->size();
    } else {
      CUTTLE_TRY(task_warnings, ctx.warning_scans->HasWarnings(path));
      log_size = tasks::LogSize(path);
    }
    for (const auto& u : units) {
      CUTTLE_TRY(auto w, ctx.warning_scans->HasWarnings(
                             deploy::UnitLogPath(ctx.options.tasklogs_dir, task->id, u.ordinal)));
      unit_warnings.push_back(w);
    }
    unit_logs.resize(units.size());
  } else {
    CUTTLE_TRY(text, tasks::ReadTaskLog(path, recorded, kMaxLog));
    log_size = text.size();
    for (const auto& u : units) {
      CUTTLE_TRY(auto log,
                 tasks::ReadLog(deploy::UnitLogPath(ctx.options.tasklogs_dir, task->id, u.ordinal),
                                0, kMaxLog));
      unit_logs.push_back(std::move(log));
    }
  }
  model::Details details = model::BuildTaskDetails({.task = *task,
                                                    .task_log = text,
                                                    .units = units,
                                                    .unit_logs = unit_logs,
                                                    .tail = tail,
                                                    .task_warnings = task_warnings,
                                                    .unit_warnings = &unit_warnings});
  CUTTLE_TRY(auto task_json, WithInterruptions(ctx, *task));
  return http::Response::Json(
      200, {{"Task", std::move(task_json)},
            {"Progress",
             {{"ProgressPercentage", details.progress_percentage}, {"EstimatedTimeRemaining", ""}}},
            {"PhysicalLogSize", log_size},
            {"ActivityLogs", std::move(details.activity_logs)},
            {"Links", {{"Self", "/api/tasks/" + task->id + "/details"}}}});
}

Result<http::Response> GetTaskRaw(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto found, FindTask(ctx, req));
  const Task* task = &found;
  int64_t offset = 0;
  if (auto o = req.Query("offset")) {
    auto n = core::ParseInt(*o);
    if (!n || *n < 0) {
      return Fail(Error::InvalidArgument("The 'offset' parameter must be a non-negative integer."));
    }
    offset = *n;
  }
  std::optional<uint64_t> limit;
  if (auto l = req.Query("limit")) {
    auto n = core::ParseInt(*l);
    if (!n || *n < 1) {
      return Fail(Error::InvalidArgument("The 'limit' parameter must be a positive integer."));
    }
    limit = static_cast<uint64_t>(*n);
  }
  // Streamed from shared storage: any node serves a log another node is still writing, from the
  // offset a tailing client has already read.
  std::string path = tasks::TaskLogPath(ctx.options.tasklogs_dir, task->id);
  uint64_t size = tasks::LogSize(path);
  std::optional<std::string> recorded;  // a short task's log, kept in its row instead of a file
  if (size == 0) {
    CUTTLE_TRY(recorded, ctx.queue.LogText(task->id));
    if (recorded) size = recorded->size();
  }
  uint64_t from = std::min<uint64_t>(static_cast<uint64_t>(offset), size);
  uint64_t length = size - from;
  if (limit && length > *limit) {
    CUTTLE_TRY(length, LengthToLastLine(path, recorded, from, *limit));
  }
  http::Response r =
      http::Response::Text(200, recorded ? recorded->substr(from, length) : std::string());
  // The whole log's size, whatever the limit: a reader knows how far it still has to go.
  r.SetHeader("X-Cuttle-Log-Size", std::to_string(size));
  r.SetHeader("X-Cuttle-Task-State", tasks::StateName(model::ShownState(*task)));
  if (!recorded && length > 0) r.file = http::FileBody{path, from, length};
  return r;
}

Result<http::Response> CancelTask(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto task, FindTask(ctx, req));
  CUTTLE_TRY(auto after, ctx.queue.Cancel(task.id));
  // Nobody will resume it: its prompts are closed (a parked task is Canceled at once; a running
  // one stops and cannot park while Cancelling).
  if (after.state == TaskState::kCanceled || after.state == TaskState::kCancelling) {
    CUTTLE_TRY_VOID(deploy::ClosePendingInterruptions(ctx.db, after.id));
  }
  CUTTLE_TRY(auto body, WithInterruptions(ctx, after));
  return http::Response::Json(200, std::move(body));
}

Result<http::Response> RerunTask(ApiContext& ctx, http::Request& req) {
  CUTTLE_TRY(auto task, FindTask(ctx, req));
  CUTTLE_TRY(auto copy, ctx.queue.Rerun(task.id, Caller(req).id));
  return http::Response::Json(201, model::TaskJson(copy));
}

}  // namespace cuttle::api
