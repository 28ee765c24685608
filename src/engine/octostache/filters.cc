#include "engine/octostache/filters.h"

#include <locale.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <clocale>
#include <cmath>
#include <cwctype>
#include <memory>
#include <regex>
#include <unordered_map>

#include "core/strings.h"
#include "engine/octostache/date_time.h"
#include "engine/octostache/markup.h"
#include "engine/octostache/number_format.h"

namespace cuttle::engine::octostache {
namespace {

using Options = std::vector<std::string>;
using Input = std::optional<std::string>;
using Output = std::optional<std::string>;

// ---------------------------------------------------------------------------------------------
// UTF-8 and UTF-16, because .NET strings are UTF-16 and several filters work per UTF-16 unit.

std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      ok = ok && (cc >> 6) == 2;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out += ok ? cp : U'\uFFFD';
    i += ok ? len : 1;
  }
  return out;
}

std::string EncodeUtf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) core::AppendUtf8(out, cp);
  return out;
}

std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  for (char32_t cp : DecodeUtf8(s)) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

std::string FromUtf16(const std::u16string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    } else if (c >= 0xD800 && c < 0xE000) {
      c = 0xFFFD;
    }
    core::AppendUtf8(out, c);
  }
  return out;
}

std::string Utf16LeBytes(std::string_view s) {
  std::string out;
  for (char16_t u : ToUtf16(s)) {
    out += static_cast<char>(u & 0xFF);
    out += static_cast<char>(u >> 8);
  }
  return out;
}

std::string FromUtf16LeBytes(std::string_view bytes) {
  std::u16string units;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    units += static_cast<char16_t>(static_cast<unsigned char>(bytes[i]) |
                                   (static_cast<unsigned char>(bytes[i + 1]) << 8));
  }
  std::string out = FromUtf16(units);
  if (bytes.size() % 2 == 1) out += "\uFFFD";
  return out;
}

std::string Lower(std::string_view s) { return core::ToLower(s); }

// Unicode case mapping through the C.UTF-8 locale's tables (glibc ships them).
std::string MapCase(std::string_view s, bool upper) {
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  std::u32string cps = DecodeUtf8(s);
  for (char32_t& cp : cps) {
    if (cp < 0x80) {
      if (upper && cp >= 'a' && cp <= 'z') cp -= 32;
      if (!upper && cp >= 'A' && cp <= 'Z') cp += 32;
    } else if (utf8 != nullptr) {
      cp = static_cast<char32_t>(upper ? towupper_l(static_cast<wint_t>(cp), utf8)
                                       : towlower_l(static_cast<wint_t>(cp), utf8));
    }
  }
  return EncodeUtf8(cps);
}

bool IsDotNetWhiteSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// int.TryParse: surrounding whitespace and a sign allowed.
std::optional<int> ParseDotNetInt(std::string_view s) {
  std::string_view t = core::Trim(s);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  auto v = core::ParseInt(t);
  if (!v || *v > INT32_MAX || *v < INT32_MIN) return std::nullopt;
  return static_cast<int>(*v);
}

// Convert.FromBase64String: whitespace ignored, and the rest must be whole 4-character groups.
std::optional<std::string> DotNetBase64Decode(std::string_view text) {
  size_t significant = 0;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') ++significant;
  }
  if (significant % 4 != 0) return std::nullopt;
  return core::Base64Decode(text);
}

// ---------------------------------------------------------------------------------------------
// Escapes

std::string EscapeEach(std::string_view s, std::string (*map)(char32_t, size_t)) {
  std::string out;
  std::u16string units = ToUtf16(s);
  for (size_t i = 0; i < units.size(); ++i) {
    char32_t c = units[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < units.size()) {
      // A surrogate pair: escaped unit by unit, or kept whole.
      std::string first = map(c, i), second = map(units[i + 1], i + 1);
      if (first.empty() && second.empty()) {
        core::AppendUtf8(out, 0x10000 + ((c - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      } else {
        out += first + second;
      }
      ++i;
      continue;
    }
    std::string mapped = map(c, i);
    if (mapped.empty()) {
      core::AppendUtf8(out, c);
    } else {
      out += mapped;
    }
  }
  return out;
}

std::string UnicodeEscape(char32_t c) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(c >> shift) & 15];
  return out;
}

std::string YamlDoubleQuoted(char32_t c, size_t) {
  switch (c) {
    case '\r':
      return "\\r";
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case '\\':
      return "\\\\";
    case '"':
      return "\\\"";
    default:
      return c >= 0x20 && c <= 0x7E ? "" : UnicodeEscape(c);
  }
}

std::string PropertiesCommon(char32_t c) {
  switch (c) {
    case '\\':
      return "\\\\";
    case '\r':
      return "\\r";
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    default:
      return c < 0xFF ? "" : UnicodeEscape(c);
  }
}

std::string PropertiesKey(char32_t c, size_t) {
  switch (c) {
    case ' ':
      return "\\ ";
    case ':':
      return "\\:";
    case '=':
      return "\\=";
    default:
      return PropertiesCommon(c);
  }
}

std::string PropertiesValue(char32_t c, size_t index) {
  return c == ' ' && index == 0 ? "\\ " : PropertiesCommon(c);
}

std::string ReplaceChars(std::string_view s,
                         std::initializer_list<std::pair<char, std::string_view>> map) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto it = std::find_if(map.begin(), map.end(), [c](const auto& e) { return e.first == c; });
    if (it == map.end()) {
      out += c;
    } else {
      out += it->second;
    }
  }
  return out;
}

// Every run of line breaks gets one more break: YAML folds a single break in a single-quoted
// scalar into a space.
std::string YamlSingleQuoted(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\n' || (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) {
      size_t j = i;
      while (j < s.size()) {
        if (s[j] == '\n') {
          ++j;
        } else if (s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') {
          j += 2;
        } else {
          break;
        }
      }
      out += s[i] == '\r' ? "\r\n" : "\n";
      out.append(s.substr(i, j - i));
      i = j;
      continue;
    }
    if (s[i] == '\'') {
      out += "''";
    } else {
      out += s[i];
    }
    ++i;
  }
  return out;
}

std::string PercentEscape(std::string_view s, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) {
      out += c;
    } else if (u < 0x80 && keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Filters. Each mirrors Octostache's rules for arity and absent input.

Output Case(const Input& in, const Options& o, bool upper) {
  if (!o.empty() || !in) return std::nullopt;
  return MapCase(*in, upper);
}

Output ToBase64(const Input& in, const Options& o) {
  if (o.size() > 1 || !in) return std::nullopt;
  std::string encoding = o.empty() ? "utf8" : Lower(o[0]);
  if (encoding == "utf8" || encoding == "utf-8") return core::Base64Encode(*in);
  if (encoding == "unicode") return core::Base64Encode(Utf16LeBytes(*in));
  return std::nullopt;
}

Output FromBase64(const Input& in, const Options& o) {
  if (o.size() > 1 || !in) return std::nullopt;
  std::string encoding = o.empty() ? "utf8" : Lower(o[0]);
  auto bytes = DotNetBase64Decode(*in);
  if (!bytes) return std::nullopt;
  if (encoding == "utf8" || encoding == "utf-8") return EncodeUtf8(DecodeUtf8(*bytes));
  if (encoding == "unicode") return FromUtf16LeBytes(*bytes);
  return std::nullopt;
}

Output Markdown(const Input& in, const Options& o) {
  if (!in || !o.empty()) return std::nullopt;
  return MarkdownToHtml(core::Trim(*in)) + "\n";
}

DateValue Now(const FilterContext& c, bool utc) {
  int64_t ticks = kUnixEpochTicks + c.now_unix_millis * 10'000;
  if (utc) return DateValue{ticks, DateValue::Kind::kUtc, 0};
  return DateValue{ticks + c.local_offset_minutes * kTicksPerMinute, DateValue::Kind::kUnspecified,
                   0};
}

Output NowDate(const Input& in, const Options& o, const FilterContext& c, bool utc) {
  if (in || o.size() > 1) return std::nullopt;
  return FormatDate(Now(c, utc), o.empty() ? "O" : o[0], c.local_offset_minutes);
}

Output AddTime(const Input& in, const Options& o, const FilterContext& c, double unit_millis) {
  if (!in || o.size() != 1) return std::nullopt;
  auto amount = ParseInvariantDouble(o[0]);
  if (!amount) return std::nullopt;
  double millis = std::round(*amount * unit_millis);
  if (!std::isfinite(millis) || std::fabs(millis) > 3.2e14) return std::nullopt;
  int64_t shift = static_cast<int64_t>(millis) * 10'000;
  auto parsed = ParseDate(*in);
  if (!parsed) return std::nullopt;
  DateValue v = AsRoundtripDateTime(*parsed, c.local_offset_minutes);
  if (v.kind == DateValue::Kind::kLocal) {
    // An explicit offset is kept rather than moved into the server's zone.
    v = AsDateTimeOffset(*parsed, c.local_offset_minutes);
  }
  v.ticks += shift;
  if (v.ticks < 0 || v.ticks >= 3'155'378'976'000'000'000) return std::nullopt;
  return FormatDate(v, "O", c.local_offset_minutes);
}

Output Format(const Input& in, const Options& o, const FilterContext& c) {
  if (!in || o.empty()) return std::nullopt;
  int local = c.local_offset_minutes;
  if (o.size() == 1) {
    if (FormatNumber(*in, NumberType::kDecimal, "G")) {
      return FormatNumber(*in, NumberType::kDecimal, o[0]);
    }
    auto date = ParseDate(*in);
    if (!date) return std::nullopt;
    return FormatDate(AsDateTimeOffset(*date, local), o[0], local);
  }
  if (o.size() != 2) return std::nullopt;
  std::string type = Lower(o[0]);
  const std::string& format = o[1];
  if (type == "int" || type == "int32") return FormatNumber(*in, NumberType::kInt32, format);
  if (type == "double") return FormatNumber(*in, NumberType::kDouble, format);
  if (type == "decimal") return FormatNumber(*in, NumberType::kDecimal, format);
  if (type == "date" || type == "datetime" || type == "datetimeoffset") {
    auto date = ParseDate(*in);
    if (!date) return std::nullopt;
    DateValue v =
        type == "datetimeoffset" ? AsDateTimeOffset(*date, local) : AsDateTime(*date, local);
    return FormatDate(v, format, local);
  }
  return std::nullopt;
}

// The compiled pattern, from a small per-thread cache: compiling a std::regex costs far more than
// matching a variable's value with it, and a deployment evaluates the same template (and so the
// same pattern) for every target. Null when the pattern does not compile (also cached).
std::shared_ptr<const std::regex> Regex(const std::string& pattern) {
  constexpr size_t kCached = 64;
  thread_local std::unordered_map<std::string, std::shared_ptr<const std::regex>> cache;
  if (auto it = cache.find(pattern); it != cache.end()) return it->second;
  std::shared_ptr<const std::regex> re;
  try {
    re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
  }
  if (cache.size() >= kCached) cache.clear();  // crude, but bounded, and patterns are few
  cache.emplace(pattern, re);
  return re;
}

Output Match(const Input& in, const Options& o) {
  if (!in || o.size() != 1) return std::nullopt;
  auto re = Regex(o[0]);
  if (!re) return std::nullopt;
  try {
    return std::regex_search(*in, *re) ? "true" : "false";
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

Output Replace(const Input& in, const Options& o) {
  if (!in || o.empty()) return std::nullopt;
  auto re = Regex(o[0]);
  if (!re) return std::nullopt;
  try {
    return std::regex_replace(*in, *re, o.size() == 1 ? std::string() : o[1]);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

Output Compare(const Input& in, const Options& o, int how) {
  if (!in || o.size() != 1) return std::nullopt;
  std::string_view s = *in;
  bool r = how == 0 ? s.starts_with(o[0]) : how == 1 ? s.ends_with(o[0]) : s.find(o[0]) != s.npos;
  return r ? "true" : "false";
}

Output Substring(const Input& in, const Options& o) {
  if (!in || o.empty() || o.size() > 2) return std::nullopt;
  std::vector<int> n;
  for (const auto& opt : o) {
    auto v = ParseDotNetInt(opt);
    if (!v || *v < 0) return std::nullopt;
    n.push_back(*v);
  }
  std::u32string s = DecodeUtf8(*in);
  size_t start = o.size() == 1 ? 0 : n[0];
  size_t length = o.size() == 1 ? n[0] : n[1];
  if (start > s.size()) return std::nullopt;
  return EncodeUtf8(s.substr(start, std::min(length, s.size() - start)));
}

Output Truncate(const Input& in, const Options& o) {
  if (!in || o.empty()) return std::nullopt;
  auto length = ParseDotNetInt(o[0]);
  if (!length || *length < 0) return std::nullopt;
  std::u32string s = DecodeUtf8(*in);
  if (static_cast<size_t>(*length) >= s.size()) return *in;
  return EncodeUtf8(s.substr(0, *length)) + (o.size() > 1 ? o[1] : "...");
}

Output Trim(const Input& in, const Options& o) {
  if (!in) return std::nullopt;
  bool start = true, end = true;
  if (!o.empty()) {
    std::string which = Lower(o[0]);
    if (which == "start") {
      end = false;
    } else if (which == "end") {
      start = false;
    } else {
      return std::nullopt;
    }
  }
  std::u32string s = DecodeUtf8(*in);
  size_t b = 0, e = s.size();
  while (start && b < e && IsDotNetWhiteSpace(s[b])) ++b;
  while (end && e > b && IsDotNetWhiteSpace(s[e - 1])) --e;
  return EncodeUtf8(s.substr(b, e - b));
}

// A size 0-255, as .NET's byte.TryParse reads the digits matched by `\d{1,3}`.
std::optional<std::string> Spaces(std::string_view digits) {
  int v = std::stoi(std::string(digits));
  if (v > 255) return std::nullopt;
  return std::string(v, ' ');
}

Output Indent(const Input& in, const Options& o) {
  if (!in) return std::nullopt;
  if (in->empty()) return std::string();
  std::string first, rest;
  if (o.empty()) {
    first = rest = "    ";
  } else if (o.size() == 1) {
    // `n`, `/n` or `n/m`; anything else (or a size above 255) is the prefix itself.
    static const std::regex kSizes(R"(^((\d{1,3})?/)?(\d{1,3})$)");
    std::smatch m;
    bool sized = false;
    if (std::regex_match(o[0], m, kSizes)) {
      auto subsequent = Spaces(m[3].str());
      if (m[1].matched && m[2].matched) {
        auto initial = Spaces(m[2].str());
        if (initial && subsequent) {
          first = *initial;
          rest = *subsequent;
          sized = true;
        }
      } else if (m[1].matched) {
        if (subsequent) {
          rest = *subsequent;
          sized = true;
        }
      } else if (subsequent) {
        first = rest = *subsequent;
        sized = true;
      }
    }
    if (!sized) first = rest = o[0];
  } else if (o.size() == 2) {
    first = o[0];
    rest = o[1];
  } else {
    return std::nullopt;
  }
  std::string out = first;
  for (char ch : *in) {
    out += ch;
    if (ch == '\n') out += rest;
  }
  return out;
}

struct Version {
  std::string major = "0", minor = "0", patch = "0", revision = "0";
  std::string release, prefix, counter, metadata;
};

// Octopus's version grammar: [v]major[.minor[.patch[.revision]]] [sep] prerelease [+metadata],
// where the prerelease's prefix and counter split at its first '.', '-' or '_'.
Version ParseVersion(std::string_view s) {
  Version v;
  size_t i = 0;
  auto number = [&](size_t at, std::string& out) {
    size_t j = at;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == at) return at;
    out = std::to_string(std::stoll(std::string(s.substr(at, std::min<size_t>(j - at, 18)))));
    return j;
  };
  size_t start = (!s.empty() && (s[0] == 'v' || s[0] == 'V')) ? 1 : 0;
  size_t after = number(start, v.major);
  if (after != start) {
    i = after;
    for (std::string* part : {&v.minor, &v.patch, &v.revision}) {
      if (i + 1 < s.size() && s[i] == '.' && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        i = number(i + 1, *part);
      } else {
        break;
      }
    }
  }
  if (i < s.size() && (s[i] == '.' || s[i] == '-' || s[i] == '_')) ++i;
  std::string_view rest = s.substr(i);
  size_t plus = rest.find('+');
  if (plus != std::string_view::npos) {
    v.metadata = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
  }
  v.release = rest;
  size_t split = rest.find_first_of(".-_");
  v.prefix = rest.substr(0, split);
  if (split != std::string_view::npos) v.counter = rest.substr(split + 1);
  return v;
}

const EVP_MD* Digest(std::string_view name) {
  if (name == "md5") return EVP_md5();
  if (name == "sha1") return EVP_sha1();
  if (name == "sha256") return EVP_sha256();
  if (name == "sha384") return EVP_sha384();
  return EVP_sha512();
}

// Options: an encoding (utf8, utf-8, unicode, base64) and/or a digest size in bytes, either order.
Output Hash(const Input& in, const Options& o, std::string_view algorithm) {
  if (!in || o.size() > 2) return std::nullopt;
  std::optional<int> size;
  std::string encoding = "utf8";
  auto is_encoding = [](const std::string& e) {
    std::string l = core::ToLower(e);
    return l == "utf8" || l == "utf-8" || l == "unicode" || l == "base64";
  };
  if (!o.empty()) {
    auto first = ParseDotNetInt(o[0]);
    if (first && *first > 0) {
      size = first;
      if (o.size() > 1) {
        if (!is_encoding(o[1])) return std::nullopt;
        encoding = Lower(o[1]);
      }
    } else {
      if (!is_encoding(o[0])) return std::nullopt;
      encoding = Lower(o[0]);
      if (o.size() > 1) {
        auto second = ParseDotNetInt(o[1]);
        if (!second || *second <= 0) return std::nullopt;
        size = second;
      }
    }
  }
  std::string bytes;
  if (encoding == "unicode") {
    bytes = Utf16LeBytes(*in);
  } else if (encoding == "base64") {
    auto decoded = DotNetBase64Decode(*in);
    if (!decoded) return std::nullopt;
    bytes = *decoded;
  } else {
    bytes = *in;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, Digest(algorithm), nullptr) != 1) {
    return std::nullopt;
  }
  if (size && static_cast<unsigned int>(*size) < length) length = *size;
  return core::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

Output Concat(const Input& in, const Options& o, bool append) {
  if (o.empty()) return std::nullopt;
  std::string joined;
  for (const auto& s : o) joined += s;
  if (!in) return joined;
  return append ? *in + joined : joined + *in;
}

}  // namespace

std::optional<std::string> ApplyFilter(std::string_view name, const Input& in, const Options& o,
                                       const FilterContext& c) {
  std::string f = Lower(name);
  if (f == "toupper") return Case(in, o, true);
  if (f == "tolower") return Case(in, o, false);
  if (f == "tobase64") return ToBase64(in, o);
  if (f == "frombase64") return FromBase64(in, o);
  if (f == "htmlescape" || f == "xmlescape") {
    if (!o.empty() || !in) return std::nullopt;
    std::string out = ReplaceChars(
        *in, {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&apos;"}});
    return f == "htmlescape" ? ReplaceChars(out, {{'/', "&#x2F;"}}) : out;
  }
  if (f == "jsonescape") {
    if (!o.empty() || !in) return std::nullopt;
    return ReplaceChars(
        *in, {{'"', "\\\""}, {'\r', "\\r"}, {'\t', "\\t"}, {'\n', "\\n"}, {'\\', "\\\\"}});
  }
  if (f == "yamlsinglequoteescape") {
    if (!in || !o.empty()) return std::nullopt;
    return YamlSingleQuoted(*in);
  }
  if (f == "yamldoublequoteescape") {
    if (!o.empty() || !in) return std::nullopt;
    return EscapeEach(*in, YamlDoubleQuoted);
  }
  if (f == "propertieskeyescape" || f == "propertiesvalueescape") {
    if (!o.empty() || !in) return std::nullopt;
    return EscapeEach(*in, f == "propertieskeyescape" ? PropertiesKey : PropertiesValue);
  }
  if (f == "uriescape" || f == "uridataescape") {
    if (!o.empty() || !in) return std::nullopt;
    return PercentEscape(*in, f == "uriescape" ? "-._~:/?#[]@!$&'()*+,;=" : "-._~");
  }
  if (f == "markdown" || f == "markdowntohtml") return Markdown(in, o);
  if (f == "nowdate") return NowDate(in, o, c, false);
  if (f == "nowdateutc") return NowDate(in, o, c, true);
  if (f == "addhours") return AddTime(in, o, c, 3'600'000.0);
  if (f == "adddays") return AddTime(in, o, c, 86'400'000.0);
  if (f == "format") return Format(in, o, c);
  if (f == "match") return Match(in, o);
  if (f == "replace") return Replace(in, o);
  if (f == "startswith") return Compare(in, o, 0);
  if (f == "endswith") return Compare(in, o, 1);
  if (f == "contains") return Compare(in, o, 2);
  if (f == "substring") return Substring(in, o);
  if (f == "truncate") return Truncate(in, o);
  if (f == "trim") return Trim(in, o);
  if (f == "indent") return Indent(in, o);
  if (f == "uripart") {
    if (!in) return std::nullopt;
    if (o.empty()) return std::string("[UriPart error: no argument given]");
    auto part = UriPart(*in, o[0]);
    return part ? *part : *in;
  }
  if (f.starts_with("version")) {
    if (!in) return std::nullopt;
    Version v = ParseVersion(*in);
    if (f == "versionmajor") return v.major;
    if (f == "versionminor") return v.minor;
    if (f == "versionpatch") return v.patch;
    if (f == "versionrevision") return v.revision;
    if (f == "versionprerelease") return v.release;
    if (f == "versionprereleaseprefix") return v.prefix;
    if (f == "versionprereleasecounter") return v.counter;
    if (f == "versionmetadata") return v.metadata;
    return std::nullopt;
  }
  if (f == "append") return Concat(in, o, true);
  if (f == "prepend") return Concat(in, o, false);
  if (f == "md5" || f == "sha1" || f == "sha256" || f == "sha384" || f == "sha512") {
    return Hash(in, o, f);
  }
  return std::nullopt;  // unknown, and `null` (whose "no result" is the point)
}

}  // namespace cuttle::engine::octostache
