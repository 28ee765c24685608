#include "tasks/task_kinds.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cuttle::tasks {

namespace {

using nlohmann::json;

const json* Find(const json& object, std::string_view name) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (core::EqualsIgnoreCase(it.key(), name)) return &it.value();
  }
  return nullptr;
}

TaskKind Noop() {
  // Does no work: measures dispatch and serves as a cluster self-test. Idempotent, so a node dying
  // under it just hands it to another.
  TaskKind k;
  k.name = "Noop";
  k.idempotent = true;
  k.default_description = "Noop";
  k.validate = [](json&) { return std::vector<std::string>{}; };
  k.run = [](TaskExecution& x) {
    (void)x.log().Append(LogCategory::kInfo, fmt::format("Noop task on node {}", x.node_name()));
    return TaskOutcome::Success();
  };
  return k;
}

TaskKind AdHocScript() {
  TaskKind k;
  k.name = "AdHocScript";
  k.idempotent = false;
  k.default_description = "Script run from management console";
  k.validate = [](json& arguments) {
    std::vector<std::string> problems;
    const json* script = Find(arguments, "ScriptBody");
    if (!script || !script->is_string() || script->get<std::string>().empty()) {
      problems.push_back("Arguments.ScriptBody is required for an AdHocScript task.");
    }
    const json* syntax = Find(arguments, "Syntax");
    if (syntax && !syntax->is_null() &&
        !(syntax->is_string() && core::EqualsIgnoreCase(syntax->get<std::string>(), "Bash"))) {
      problems.push_back("Arguments.Syntax " + syntax->dump() +
                         " is not supported: the built-in worker runs Bash scripts.");
    }
    if (!problems.empty()) return problems;
    // Stored under the names the run function reads, whatever casing the client used.
    std::string body = script->get<std::string>();
    arguments["ScriptBody"] = std::move(body);
    arguments["Syntax"] = "Bash";
    return problems;
  };
  k.run = [](TaskExecution& x) {
    // From here on the work has effects outside Cuttle: if this node dies now, the task fails
    // rather than running a second time elsewhere.
    if (!x.StartWork()) return TaskOutcome::HandedOff();
    return x.RunScript({.body = x.task().arguments.value("ScriptBody", ""), .env = {}});
  };
  return k;
}

}  // namespace

TaskKinds& TaskKinds::Registry() {
  static TaskKinds* registry = [] {
    auto* kinds = new TaskKinds();
    RegisterBuiltInKinds(*kinds);
    return kinds;
  }();
  return *registry;
}

void RegisterBuiltInKinds(TaskKinds& kinds) {
  CUTTLE_CHECK(kinds.Register(Noop()).has_value());
  CUTTLE_CHECK(kinds.Register(AdHocScript()).has_value());
}

Result<void> TaskKinds::Register(TaskKind kind) {
  if (kind.name.empty() || !kind.run) {
    return Fail(Error::InvalidArgument("a task kind needs a name and a run function"));
  }
  if (!kind.validate) kind.validate = [](json&) { return std::vector<std::string>{}; };
  std::lock_guard lock(mu_);
  for (const auto& k : kinds_) {
    if (core::EqualsIgnoreCase(k->name, kind.name)) {
      return Fail(Error::AlreadyExists("the task kind '" + kind.name + "' is already registered"));
    }
  }
  kinds_.push_back(std::make_unique<TaskKind>(std::move(kind)));
  return {};
}

const TaskKind* TaskKinds::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& k : kinds_) {
    if (core::EqualsIgnoreCase(k->name, name)) return k.get();
  }
  return nullptr;
}

std::vector<std::string> TaskKinds::CreatableByApi() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& k : kinds_) {
    if (k->creatable_by_api) out.push_back(k->name);
  }
  return out;
}

}  // namespace cuttle::tasks
