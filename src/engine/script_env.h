// The environment a step's script runs with. It is built from an allow-list, never inherited:
// the node's own environment holds its settings (CUTTLE_MASTER_KEY, a database URL with its
// password), and a script's output goes into a task log every key holder can read.
//
// Pure functions; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::engine {

// Reads one variable of an environment (nullopt when unset). The same shape as
// config::EnvLookup, so config::ProcessEnv() can be passed where one is asked for.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The running process's environment (getenv).
EnvLookup ProcessEnvironment();

// The node's variables a script may see, taken from the node's environment when set there.
inline constexpr std::string_view kInheritedVariables[] = {"PATH", "HOME", "LANG", "TMPDIR"};
// PATH when the node has none.
inline constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

// "NAME=value" strings: the allow-listed variables of `node`, then the step's own variables
// (`step`, e.g. OCTOPUS_TASK_ID), which win over them. Nothing else.
std::vector<std::string> ScriptEnvironment(const std::map<std::string, std::string>& step,
                                           const EnvLookup& node);

}  // namespace cuttle::engine
