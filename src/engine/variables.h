// The variables a step sees: a flat dictionary of name → value, as Octopus gives its scripts
// (reference-octopus-deployment-model.md §2.9, §3.7, §3.8). Names compare case-insensitively
// (ASCII), as Octopus's VariableDictionary does; the first spelling set is the one kept for
// listing. Values are raw templates: Octostache (engine/octostache.h) evaluates them on read. A
// value type; not thread-safe for concurrent writes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::engine {

struct Variable {
  std::string name;  // as first spelled
  std::string value;
  bool sensitive = false;
  // Position of the first Set of this name: Octostache iterates indexed collections
  // (`#{each a in Octopus.Action}`) in first-definition order, which the sorted map loses.
  uint64_t order = 0;
};

// Orders names case-insensitively (ASCII), the key order of VariableDictionary.
struct NameLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

class VariableDictionary {
 public:
  // Sets (or replaces) `name`; replacing keeps the first spelling of the name.
  void Set(std::string_view name, std::string value, bool sensitive = false);
  bool Remove(std::string_view name);
  const Variable* Find(std::string_view name) const;
  // The raw (unevaluated) value, or nullopt when unknown.
  std::optional<std::string> Get(std::string_view name) const;
  bool Contains(std::string_view name) const { return Find(name) != nullptr; }
  size_t size() const { return vars_.size(); }
  bool empty() const { return vars_.empty(); }

  // Every variable, in case-insensitive name order.
  auto begin() const { return vars_.begin(); }
  auto end() const { return vars_.end(); }

  // The values of every sensitive variable (non-empty ones), for masking.
  std::vector<std::string> SensitiveValues() const;

 private:
  std::map<std::string, Variable, NameLess> vars_;
  uint64_t next_order_ = 0;
};

}  // namespace cuttle::engine
