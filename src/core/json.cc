#include "core/json.h"

#include <fmt/format.h>

#include <cstdio>

#include "core/strings.h"

namespace cuttle::core {

namespace {

// Deepest nesting of arrays and objects in `text`, counted without recursion and stopping at
// `limit + 1`. Brackets inside strings do not count. Exact for valid JSON; for invalid text the
// parser's own error follows when the count is within the limit.
size_t NestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, size_t max_depth) {
  if (NestingDepth(text, max_depth) > max_depth) {
    return Fail(Error::InvalidArgument(fmt::format(
        "The JSON body is nested more than {} levels deep, which is not accepted.", max_depth)));
  }
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Fail(Error::InvalidArgument("The request body is not valid JSON."));
  }
  return value;
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const nlohmann::json* FindKeyIgnoreCase(const nlohmann::json& o, std::string_view name) {
  if (!o.is_object()) return nullptr;
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (EqualsIgnoreCase(it.key(), name)) return &it.value();
  }
  return nullptr;
}

std::string StringMember(const nlohmann::json& o, std::string_view name) {
  const nlohmann::json* v = FindKeyIgnoreCase(o, name);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

bool FlagMember(const nlohmann::json& o, std::string_view name) {
  const nlohmann::json* v = FindKeyIgnoreCase(o, name);
  if (v == nullptr) return false;
  if (v->is_boolean()) return v->get<bool>();
  return v->is_string() && EqualsIgnoreCase(Trim(v->get<std::string>()), "true");
}

void AppendJsonString(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) {
      out += nlohmann::json(std::string(s))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  // Runs of bytes that need no escape are appended whole.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

}  // namespace cuttle::core
