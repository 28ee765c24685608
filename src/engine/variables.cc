#include "engine/variables.h"

#include <algorithm>

namespace cuttle::engine {
namespace {
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool NameLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return Lower(x) < Lower(y); });
}

void VariableDictionary::Set(std::string_view name, std::string value, bool sensitive) {
  auto it = vars_.find(name);
  if (it == vars_.end()) {
    // The Variable is built before the key moves: emplace(key, Variable{std::move(key)...})
    // emptied the key while the map still had to read it.
    Variable v{std::string(name), std::move(value), sensitive, next_order_++};
    vars_.emplace(std::string(name), std::move(v));
    return;
  }
  it->second.value = std::move(value);
  it->second.sensitive = sensitive;
}

bool VariableDictionary::Remove(std::string_view name) {
  auto it = vars_.find(name);
  if (it == vars_.end()) return false;
  vars_.erase(it);
  return true;
}

const Variable* VariableDictionary::Find(std::string_view name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

std::optional<std::string> VariableDictionary::Get(std::string_view name) const {
  if (const Variable* v = Find(name)) return v->value;
  return std::nullopt;
}

std::vector<std::string> VariableDictionary::SensitiveValues() const {
  std::vector<std::string> out;
  for (const auto& [_, v] : vars_) {
    if (v.sensitive && !v.value.empty()) out.push_back(v.value);
  }
  return out;
}

}  // namespace cuttle::engine
