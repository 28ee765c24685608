// JSON as Octostache reads variable values (Newtonsoft.Json's lenient defaults): unquoted property
// names, single-quoted strings, comments and trailing commas are accepted; text after the value is
// not. Scalars convert to text as .NET does (`12`, `15.21`, `True`); objects and arrays serialize
// back to compact JSON. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cuttle::engine::octostache {

struct JsonValue {
  enum class Kind { kNull, kBool, kInteger, kFloat, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;  // kFloat
  std::string text;   // kString, or the digits of a kInteger
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;  // in document order

  bool IsContainer() const { return kind == Kind::kArray || kind == Kind::kObject; }
  // An object's property by exact (case-sensitive) name.
  const JsonValue* Member(std::string_view name) const;
};

// nullopt when the text is not one JSON value.
std::optional<JsonValue> ParseLooseJson(std::string_view text);

// A scalar's text (.NET's Value<string>()); nullopt for null. Containers serialize.
std::optional<std::string> JsonText(const JsonValue& value);

// Compact JSON.
std::string SerializeJson(const JsonValue& value);

}  // namespace cuttle::engine::octostache
