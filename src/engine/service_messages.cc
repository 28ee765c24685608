#include "engine/service_messages.h"

#include "core/strings.h"

namespace cuttle::engine {

std::optional<std::string> ServiceMessage::Get(std::string_view key) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return std::nullopt;
  return it->second;
}

std::optional<ServiceMessage> ParseServiceMessage(std::string_view line) {
  line = core::Trim(line);
  constexpr std::string_view kPrefix = "##octopus[";
  if (!line.starts_with(kPrefix) || line.back() != ']') return std::nullopt;
  std::string_view inner = line.substr(kPrefix.size(), line.size() - kPrefix.size() - 1);
  ServiceMessage m;
  size_t i = 0;
  while (i < inner.size() && inner[i] != ' ') ++i;
  m.name = std::string(inner.substr(0, i));
  if (m.name.empty()) return std::nullopt;
  while (i < inner.size()) {
    while (i < inner.size() && inner[i] == ' ') ++i;
    size_t eq = inner.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(core::Trim(inner.substr(i, eq - i)));
    if (eq + 1 >= inner.size() || inner[eq + 1] != '\'') return std::nullopt;
    size_t close = inner.find('\'', eq + 2);
    if (close == std::string_view::npos) return std::nullopt;
    auto raw = inner.substr(eq + 2, close - eq - 2);
    auto decoded = core::Base64Decode(raw);
    m.attributes[key] = decoded ? *decoded : std::string(raw);
    i = close + 1;
  }
  return m;
}

std::string FormatServiceMessage(
    std::string_view name, const std::vector<std::pair<std::string, std::string>>& attributes) {
  std::string out = "##octopus[";
  out += name;
  for (const auto& [key, value] : attributes) {
    out += ' ';
    out += key;
    out += "='";
    out += core::Base64Encode(value);
    out += '\'';
  }
  out += ']';
  return out;
}

}  // namespace cuttle::engine
