#include "tasks/script_env.h"

namespace cuttle::tasks {

std::vector<std::string> ScriptEnvironment(const std::map<std::string, std::string>& step,
                                           const config::EnvLookup& node) {
  std::map<std::string, std::string> vars;
  vars["PATH"] = std::string(kDefaultPath);
  for (std::string_view name : kInheritedVariables) {
    if (auto v = node(name)) vars[std::string(name)] = *v;
  }
  for (const auto& [name, value] : step) vars[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

}  // namespace cuttle::tasks
