#include "engine/script_env.h"

#include <cstdlib>

namespace cuttle::engine {

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::vector<std::string> ScriptEnvironment(const std::map<std::string, std::string>& step,
                                           const EnvLookup& node) {
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

}  // namespace cuttle::engine
