// The one way Cuttle parses JSON it did not write itself (request bodies, stored task arguments):
// exceptions become Error values, and nesting is bounded before nlohmann builds (or anything later
// serialises) the tree. nlohmann's dump() and comparisons recurse once per level, so a 200 KB body
// nested 100,000 deep used to overflow the stack of the thread that echoed it back.
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::core {

// Deeper than this is refused: Octopus's own documents nest fewer than 10 levels.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses `text` as one JSON value. Errors (kInvalidArgument, with a message a client can act on):
// not valid JSON, or arrays/objects nested deeper than `max_depth`.
Result<nlohmann::json> ParseJson(std::string_view text, size_t max_depth = kMaxJsonDepth);

// Appends `s` as a JSON string literal, as nlohmann's dump() would write it: '"', '\\', \b \f
// \n \r \t escaped, other control bytes as \u00XX, valid UTF-8 as it is and invalid UTF-8 replaced
// by U+FFFD. For JSON written as text without building a tree (the dashboard's 10,000 items).
void AppendJsonString(std::string& out, std::string_view s);

// `j` as compact text, invalid UTF-8 in its strings replaced by U+FFFD instead of throwing (as
// nlohmann's dump() does): for documents holding what scripts produced (output variables, errors).
std::string DumpJson(const nlohmann::json& j);

// Readers of stored documents that never throw (nlohmann's value() throws on a type mismatch).
// Keys match case-insensitively (ASCII), as Octopus's property bags do.
// The member `name` of an object, or nullptr (also when `o` is not an object).
const nlohmann::json* FindKeyIgnoreCase(const nlohmann::json& o, std::string_view name);
// A string member's text; "" when absent or not a string.
std::string StringMember(const nlohmann::json& o, std::string_view name);
// A flag: true, or the text "true" in any case (property bags spell booleans as text); anything
// else, null included, is false.
bool FlagMember(const nlohmann::json& o, std::string_view name);

}  // namespace cuttle::core
