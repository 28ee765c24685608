#include "engine/octostache/loose_json.h"

#include <charconv>
#include <cmath>

#include "core/json.h"
#include "core/strings.h"
#include "engine/octostache/number_format.h"

namespace cuttle::engine::octostache {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  std::optional<JsonValue> Document() {
    JsonValue v;
    if (!Value(v, 0)) return std::nullopt;
    SkipSpace();
    if (i_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool SkipSpace() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        size_t end = s_.find("*/", i_ + 2);
        if (end == std::string_view::npos) return false;
        i_ = end + 2;
      } else {
        break;
      }
    }
    return true;
  }

  bool Value(JsonValue& v, int depth) {
    if (depth > kMaxDepth || !SkipSpace() || i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"' || c == '\'') {
      v.kind = JsonValue::Kind::kString;
      return String(v.text);
    }
    if (c == '-' || (c >= '0' && c <= '9') || c == '.') return Number(v);
    if (Word("true")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = true;
      return true;
    }
    if (Word("false")) {
      v.kind = JsonValue::Kind::kBool;
      return true;
    }
    if (Word("null")) {
      v.kind = JsonValue::Kind::kNull;
      return true;
    }
    return false;
  }

  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    size_t after = i_ + w.size();
    if (after < s_.size() &&
        (std::isalnum(static_cast<unsigned char>(s_[after])) || s_[after] == '_')) {
      return false;
    }
    i_ = after;
    return true;
  }

  bool Object(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::kObject;
    ++i_;
    while (true) {
      if (!SkipSpace() || i_ >= s_.size()) return false;
      if (s_[i_] == '}') {
        ++i_;
        return true;
      }
      std::string name;
      if (s_[i_] == '"' || s_[i_] == '\'') {
        if (!String(name)) return false;
      } else if (!UnquotedName(name)) {
        return false;
      }
      if (!SkipSpace() || i_ >= s_.size() || s_[i_] != ':') return false;
      ++i_;
      JsonValue member;
      if (!Value(member, depth + 1)) return false;
      // A repeated name replaces the earlier value in place, as Newtonsoft's default does.
      bool replaced = false;
      for (auto& [k, existing] : v.members) {
        if (k == name) {
          existing = std::move(member);
          replaced = true;
          break;
        }
      }
      if (!replaced) v.members.emplace_back(std::move(name), std::move(member));
      if (!SkipSpace() || i_ >= s_.size()) return false;
      if (s_[i_] == ',') {
        ++i_;
      } else if (s_[i_] != '}') {
        return false;
      }
    }
  }

  bool UnquotedName(std::string& out) {
    size_t start = i_;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (!(std::isalnum(c) || c == '_' || c == '$' || c >= 0x80)) break;
      ++i_;
    }
    if (i_ == start) return false;
    out = std::string(s_.substr(start, i_ - start));
    return true;
  }

  bool Array(JsonValue& v, int depth) {
    v.kind = JsonValue::Kind::kArray;
    ++i_;
    while (true) {
      if (!SkipSpace() || i_ >= s_.size()) return false;
      if (s_[i_] == ']') {
        ++i_;
        return true;
      }
      JsonValue item;
      if (!Value(item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      if (!SkipSpace() || i_ >= s_.size()) return false;
      if (s_[i_] == ',') {
        ++i_;
      } else if (s_[i_] != ']') {
        return false;
      }
    }
  }

  bool Hex4(uint32_t& out) {
    if (i_ + 4 > s_.size()) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= c - '0';
      else if (c >= 'a' && c <= 'f')
        out |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        out |= c - 'A' + 10;
      else
        return false;
    }
    return true;
  }

  bool String(std::string& out) {
    char quote = s_[i_++];
    out.clear();
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == quote) return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            uint32_t low;
            if (!Hex4(low)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          core::AppendUtf8(out, cp);
          break;
        }
        default:
          out += e;
          break;
      }
    }
    return false;
  }

  bool Number(JsonValue& v) {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    bool is_float = false;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c >= '0' && c <= '9') {
        ++i_;
      } else if (c == '.' || c == 'e' || c == 'E' ||
                 ((c == '+' || c == '-') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E'))) {
        is_float = true;
        ++i_;
      } else {
        break;
      }
    }
    std::string_view text = s_.substr(start, i_ - start);
    if (!is_float) {
      long long n;
      auto r = std::from_chars(text.data(), text.data() + text.size(), n);
      if (r.ptr == text.data() + text.size() && r.ec == std::errc()) {
        v.kind = JsonValue::Kind::kInteger;
        v.text = std::to_string(n);
        return true;
      }
    }
    auto d = ParseInvariantDouble(text);
    if (!d) return false;
    v.kind = JsonValue::Kind::kFloat;
    v.number = *d;
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

void Serialize(const JsonValue& v, std::string& out) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      out += "null";
      return;
    case JsonValue::Kind::kBool:
      out += v.boolean ? "true" : "false";
      return;
    case JsonValue::Kind::kInteger:
      out += v.text;
      return;
    case JsonValue::Kind::kFloat: {
      // Newtonsoft writes a float that holds an integer with ".0".
      std::string t = FormatDouble(v.number);
      bool plain = std::isfinite(v.number) && t.find_first_of(".E") == std::string::npos;
      out += plain ? t + ".0" : t;
      return;
    }
    case JsonValue::Kind::kString:
      core::AppendJsonString(out, v.text);
      return;
    case JsonValue::Kind::kArray:
      out += '[';
      for (size_t k = 0; k < v.items.size(); ++k) {
        if (k > 0) out += ',';
        Serialize(v.items[k], out);
      }
      out += ']';
      return;
    case JsonValue::Kind::kObject:
      out += '{';
      for (size_t k = 0; k < v.members.size(); ++k) {
        if (k > 0) out += ',';
        core::AppendJsonString(out, v.members[k].first);
        out += ':';
        Serialize(v.members[k].second, out);
      }
      out += '}';
      return;
  }
}

}  // namespace

const JsonValue* JsonValue::Member(std::string_view name) const {
  for (const auto& [k, v] : members) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::optional<JsonValue> ParseLooseJson(std::string_view text) { return Reader(text).Document(); }

std::optional<std::string> JsonText(const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kNull:
      return std::nullopt;
    case JsonValue::Kind::kBool:
      return value.boolean ? "True" : "False";
    case JsonValue::Kind::kInteger:
    case JsonValue::Kind::kString:
      return value.text;
    case JsonValue::Kind::kFloat:
      return FormatDouble(value.number);
    default:
      return SerializeJson(value);
  }
}

std::string SerializeJson(const JsonValue& value) {
  std::string out;
  Serialize(value, out);
  return out;
}

}  // namespace cuttle::engine::octostache
