#include <fmt/format.h>

#include "api/handlers.h"
#include "core/ids.h"
#include "core/strings.h"
#include "tasks/task_log.h"

namespace cuttle::api {

namespace {
using tasks::Task;
using tasks::TaskState;

std::optional<std::string> IsoOrNull(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return core::FormatIso8601(*ms);
}

json Iso(const std::optional<int64_t>& ms) {
  auto s = IsoOrNull(ms);
  return s ? json(*s) : json(nullptr);
}

json TaskJson(const Task& t) {
  bool completed = tasks::IsFinal(t.state);
  json duration = nullptr;
  if (t.start_time) {
    int64_t end =
        t.completed_time.value_or(core::ToUnixMillis(core::SystemClock::Instance().Now()));
    duration = core::FormatDuration(end - *t.start_time);
  }
  std::string self = "/api/tasks/" + t.id;
  return {{"Id", t.id},
          {"SpaceId", t.space_id.empty() ? json(nullptr) : json(t.space_id)},
          {"Name", t.name},
          {"Description", t.description},
          {"Arguments", t.arguments},
          {"State", tasks::StateName(t.state)},
          {"Completed", completed ? Iso(t.completed_time) : json(nullptr)},
          {"QueueTime", core::FormatIso8601(t.queue_time)},
          {"QueueTimeExpiry", Iso(t.queue_time_expiry)},
          {"StartTime", Iso(t.start_time)},
          {"LastUpdatedTime", Iso(t.last_updated_time)},
          {"CompletedTime", Iso(t.completed_time)},
          {"Duration", duration},
          {"ErrorMessage", t.error_message},
          {"ServerNode", t.server_node.empty() ? json(nullptr) : json(t.server_node)},
          {"HasBeenPickedUpByProcessor", t.start_time.has_value() || completed},
          {"IsCompleted", completed},
          {"FinishedSuccessfully", t.state == TaskState::kSuccess},
          {"HasPendingInterruptions", false},
          {"HasPendingPreconditions", false},
          {"HasWarningsOrErrors", t.has_warnings_or_errors},
          {"CanRerun", completed},
          {"Links",
           {{"Self", self},
            {"Web", "/app#/" + t.space_id + "/tasks/" + t.id},
            {"Raw", self + "/raw"},
            {"Details", self + "/details{?verbose,tail,ranges}"},
            {"Artifacts", "/api/" + t.space_id + "/artifacts?regarding=" + t.id},
            {"Cancel", self + "/cancel"},
            {"Rerun", self + "/rerun"}}}};
}

// The task named by the route, in the route's space; 404 for an unknown or malformed id.
Result<Task> FindTask(ApiContext& ctx, const http::Request& req) {
  CUTTLE_TRY(auto space, SpaceOf(ctx, req));
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
  CUTTLE_TRY(auto paging, ReadPaging(req));
  f.skip = paging.skip;
  f.take = paging.take;
  if (!req.Param("spaceId").empty()) {
    CUTTLE_TRY(f.space_id, SpaceOf(ctx, req));
  } else if (auto space = req.Query("spaces")) {
    f.space_id = *space;
  }
  if (auto ids = IdsFilter(req)) f.ids = *ids;
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
  return f;
}
}  // namespace

Result<std::string> SpaceOf(ApiContext& ctx, const http::Request& req) {
  const std::string& id = req.Param("spaceId");
  if (id.empty()) return std::string("Spaces-1");
  if (!core::ParseId("Spaces", id)) return Fail(Error::NotFound("space", id));
  CUTTLE_TRY(auto space, repo::FindSpace(ctx.db, id));
  if (!space) return Fail(Error::NotFound("space", id));
  return space->id;
}

http::Response ListTasks(ApiContext& ctx, http::Request& req) {
  auto filter = ReadFilter(ctx, req);
  if (!filter) return http::Response::FromError(filter.error());
  auto found = ctx.queue.List(*filter);
  if (!found) return http::Response::FromError(found.error());
  auto& [items, total] = *found;
  json page = json::array();
  for (const auto& t : items) page.push_back(TaskJson(t));
  int64_t per_page = filter->ids.empty() ? filter->take : static_cast<int64_t>(filter->ids.size());
  int64_t pages = PageCount(total, per_page);
  return http::Response::Json(200, {{"ItemType", "Task"},
                                    {"TotalResults", total},
                                    {"ItemsPerPage", per_page},
                                    {"NumberOfPages", pages},
                                    {"LastPageNumber", pages > 0 ? pages - 1 : 0},
                                    {"Items", std::move(page)},
                                    {"Links", {{"Self", SelfLink(req)}}}});
}

http::Response CreateTask(ApiContext& ctx, http::Request& req, const repo::UserRow& user) {
  auto body = ParseJsonObject(req);
  if (!body) return http::Response::FromError(body.error());
  auto space = SpaceOf(ctx, req);
  if (!space) return http::Response::FromError(space.error());
  tasks::NewTask t;
  t.space_id = *space;
  t.created_by = user.id;
  const json* name = FindProperty(*body, "Name");
  if (!name || !name->is_string()) {
    return http::Response::Error(400, "There was a problem with your request.",
                                 {"Name is required: AdHocScript or Noop."});
  }
  t.name = name->get<std::string>();
  const json* args = FindProperty(*body, "Arguments");
  if (args && !args->is_null() && !args->is_object()) {
    return http::Response::Error(400, "There was a problem with your request.",
                                 {"Arguments must be a JSON object."});
  }
  if (args && args->is_object()) t.arguments = *args;
  if (const json* d = FindProperty(*body, "Description"); d && d->is_string()) {
    t.description = d->get<std::string>();
  }
  if (const json* e = FindProperty(*body, "QueueTimeExpiry"); e && !e->is_null()) {
    auto ms = e->is_string() ? core::ParseIso8601(e->get<std::string>()) : std::nullopt;
    if (!ms) {
      return http::Response::Error(400, "There was a problem with your request.",
                                   {"QueueTimeExpiry must be an ISO 8601 date and time."});
    }
    t.queue_time_expiry = *ms;
  }

  if (core::EqualsIgnoreCase(t.name, "AdHocScript")) {
    t.name = "AdHocScript";
    const json* script = FindProperty(t.arguments, "ScriptBody");
    if (!script || !script->is_string() || script->get<std::string>().empty()) {
      return http::Response::Error(400, "There was a problem with your request.",
                                   {"Arguments.ScriptBody is required for an AdHocScript task."});
    }
    const json* syntax = FindProperty(t.arguments, "Syntax");
    if (syntax && !syntax->is_null() &&
        !(syntax->is_string() && core::EqualsIgnoreCase(syntax->get<std::string>(), "Bash"))) {
      return http::Response::Error(400, "There was a problem with your request.",
                                   {"Arguments.Syntax " + syntax->dump() +
                                    " is not supported: the built-in worker runs Bash scripts."});
    }
    // Store the arguments under the names the runner reads, whatever casing the client used.
    t.arguments["ScriptBody"] = script->get<std::string>();
    t.arguments["Syntax"] = "Bash";
    if (t.description.empty()) t.description = "Script run from management console";
  } else if (core::EqualsIgnoreCase(t.name, "Noop")) {
    // A task that does no work: measures dispatch and serves as a cluster self-test. Idempotent,
    // so a node dying under it just hands it to another.
    t.name = "Noop";
    t.idempotent = true;
    if (t.description.empty()) t.description = "Noop";
  } else {
    return http::Response::Error(
        400, "There was a problem with your request.",
        {"Tasks named '" + t.name + "' cannot be created here (expected AdHocScript or Noop)."});
  }
  auto task = ctx.queue.Enqueue(t);
  if (!task) return http::Response::FromError(task.error());
  return http::Response::Json(201, TaskJson(*task));
}

http::Response GetTask(ApiContext& ctx, http::Request& req) {
  auto task = FindTask(ctx, req);
  if (!task) return http::Response::FromError(task.error());
  return http::Response::Json(200, TaskJson(*task));
}

http::Response GetTaskDetails(ApiContext& ctx, http::Request& req) {
  auto task = FindTask(ctx, req);
  if (!task) return http::Response::FromError(task.error());
  std::string path = tasks::TaskLogPath(ctx.options.tasklogs_dir, task->id);
  auto recorded = ctx.queue.LogText(task->id);
  if (!recorded) return http::Response::FromError(recorded.error());
  auto text = tasks::ReadTaskLog(path, *recorded, 64 * 1024 * 1024);
  if (!text) return http::Response::FromError(text.error());
  json elements = json::array();
  bool warnings = false, errors = false;
  for (const auto& e : tasks::ParseLog(*text)) {
    warnings = warnings || e.category == "Warning";
    errors = errors || e.category == "Error" || e.category == "Fatal";
    elements.push_back({{"Category", e.category},
                        {"OccurredAt", e.occurred_at},
                        {"MessageText", e.message},
                        {"Detail", nullptr}});
  }
  std::string status;
  switch (task->state) {
    case TaskState::kQueued:
      status = "Pending";
      break;
    case TaskState::kExecuting:
    case TaskState::kCancelling:
      status = "Running";
      break;
    case TaskState::kSuccess:
      status = warnings || errors ? "SuccessWithWarning" : "Success";
      break;
    case TaskState::kCanceled:
      status = "Canceled";
      break;
    default:
      status = "Failed";
      break;
  }
  bool done = tasks::IsFinal(task->state);
  json activity = {{"Id", task->id},
                   {"Name", task->description.empty() ? task->name : task->description},
                   {"Started", Iso(task->start_time)},
                   {"Ended", Iso(task->completed_time)},
                   {"Status", status},
                   {"ShowAtSummaryLevel", true},
                   {"ProgressPercentage", done ? 100 : 0},
                   {"ProgressMessage", ""},
                   {"LogElements", std::move(elements)},
                   {"Children", json::array()}};
  return http::Response::Json(
      200, {{"Task", TaskJson(*task)},
            {"Progress", {{"ProgressPercentage", done ? 100 : 0}, {"EstimatedTimeRemaining", ""}}},
            {"PhysicalLogSize", text->size()},
            {"ActivityLogs", json::array({std::move(activity)})},
            {"Links", {{"Self", "/api/tasks/" + task->id + "/details"}}}});
}

http::Response GetTaskRaw(ApiContext& ctx, http::Request& req) {
  auto task = FindTask(ctx, req);
  if (!task) return http::Response::FromError(task.error());
  int64_t offset = 0;
  if (auto o = req.Query("offset")) {
    auto n = core::ParseInt(*o);
    if (!n || *n < 0) {
      return http::Response::Error(400, "The 'offset' parameter must be a non-negative integer.");
    }
    offset = *n;
  }
  // Streamed from shared storage: any node serves a log another node is still writing, from the
  // offset a tailing client has already read.
  std::string path = tasks::TaskLogPath(ctx.options.tasklogs_dir, task->id);
  uint64_t size = tasks::LogSize(path);
  std::optional<std::string> recorded;  // a short task's log, kept in its row instead of a file
  if (size == 0) {
    auto text = ctx.queue.LogText(task->id);
    if (!text) return http::Response::FromError(text.error());
    recorded = std::move(*text);
    if (recorded) size = recorded->size();
  }
  uint64_t from = std::min<uint64_t>(static_cast<uint64_t>(offset), size);
  http::Response r = http::Response::Text(200, recorded ? recorded->substr(from) : "");
  r.SetHeader("X-Cuttle-Log-Size", std::to_string(size));
  r.SetHeader("X-Cuttle-Task-State", tasks::StateName(task->state));
  if (!recorded && size > from) r.file = http::FileBody{path, from, size - from};
  return r;
}

http::Response CancelTask(ApiContext& ctx, http::Request& req) {
  auto task = FindTask(ctx, req);
  if (!task) return http::Response::FromError(task.error());
  auto after = ctx.queue.Cancel(task->id);
  if (!after) return http::Response::FromError(after.error());
  return http::Response::Json(200, TaskJson(*after));
}

http::Response RerunTask(ApiContext& ctx, http::Request& req, const repo::UserRow& user) {
  auto task = FindTask(ctx, req);
  if (!task) return http::Response::FromError(task.error());
  auto copy = ctx.queue.Rerun(task->id, user.id);
  if (!copy) return http::Response::FromError(copy.error());
  return http::Response::Json(201, TaskJson(*copy));
}

}  // namespace cuttle::api
