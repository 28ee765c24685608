#include "core/strings.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

namespace cuttle::core {

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return ToLower(haystack).find(ToLower(needle)) != std::string::npos;
}

std::vector<std::string> Split(std::string_view s, char sep, bool skip_empty) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    auto part = Trim(s.substr(start, end - start));
    if (!part.empty() || !skip_empty) out.emplace_back(part);
    start = end + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  s = Trim(s);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

void AppendIso8601(std::string& out, int64_t unix_millis) {
  int64_t secs = unix_millis / 1000;
  int64_t ms = unix_millis % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  // The civil date of a day count (H. Hinnant's civil_from_days): plain arithmetic, because the
  // dashboard formats four times per cell and gmtime + format showed in its profile.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  // Written into a local buffer and appended once: the dashboard formats 40,000 of these.
  char text[64];
  size_t len = 0;
  auto digits = [&](int64_t v, int width) {
    char buf[20];
    int n = 0;
    uint64_t u = v < 0 ? 0 : static_cast<uint64_t>(v);
    do {
      buf[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    for (int i = n; i < width; ++i) text[len++] = '0';
    while (n > 0) text[len++] = buf[--n];
  };
  auto put = [&](char c) { text[len++] = c; };
  digits(y, 4);
  put('-');
  digits(m, 2);
  put('-');
  digits(d, 2);
  put('T');
  digits(rem / 3600, 2);
  put(':');
  digits(rem / 60 % 60, 2);
  put(':');
  digits(rem % 60, 2);
  put('.');
  digits(ms, 3);
  for (char c : std::string_view("+00:00")) put(c);
  out.append(text, len);
}

std::string FormatIso8601(int64_t unix_millis) {
  std::string out;
  out.reserve(29);
  AppendIso8601(out, unix_millis);
  return out;
}

std::optional<int64_t> ParseIso8601(std::string_view t) {
  t = Trim(t);
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    if (pos + len > t.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  auto year = num(0, 4), month = num(5, 2), day = num(8, 2), hour = num(11, 2), minute = num(14, 2),
       second = num(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != ' ') || t[13] != ':' || t[16] != ':' || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
      if (digits < 3) millis = millis * 10 + (t[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) millis *= 10;
  }
  int offset_minutes = 0;
  if (pos < t.size()) {
    if (t[pos] == 'Z' && pos + 1 == t.size()) {
    } else if ((t[pos] == '+' || t[pos] == '-') && pos + 6 == t.size() && t[pos + 3] == ':') {
      auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
      if (!oh || !om) return std::nullopt;
      offset_minutes = (*oh * 60 + *om) * (t[pos] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - int64_t{offset_minutes} * 60;
  return secs * 1000 + millis;
}

std::string FormatDuration(int64_t millis) {
  auto plural = [](int64_t n, const char* unit) {
    return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
  };
  int64_t secs = millis / 1000;
  if (secs < 60) return plural(secs, "second");
  if (secs < 3600) return plural(secs / 60, "minute");
  if (secs < 86400) return plural(secs / 3600, "hour");
  return plural(secs / 86400, "day");
}

namespace {

bool IsBase64Space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsBase64Digit(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

// EVP_EncodeBlock and EVP_DecodeBlock take an int length: longer input goes in blocks (a multiple
// of 3 bytes to encode, of 4 characters to decode, so no block but the last is padded).
constexpr size_t kBase64Block = size_t{3} << 20;

std::string Base64Encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock adds a NUL
  size_t written = 0;
  for (size_t i = 0; i < bytes.size(); i += kBase64Block) {
    const size_t n = std::min(kBase64Block, bytes.size() - i);
    written += static_cast<size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + written),
        reinterpret_cast<const unsigned char*>(bytes.data() + i), static_cast<int>(n)));
  }
  out.resize(written);
  return out;
}

// EVP_DecodeBlock wants whole 4-character groups without inner whitespace, decodes '=' anywhere
// as zero bits, and counts padding as output bytes. So whitespace is dropped, every character is
// checked, '=' is allowed only as the one or two closing characters, missing padding is restored,
// and the padding's bytes are taken off the result.
std::optional<std::string> Base64Decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size() + 2);
  for (char c : text) {
    if (!IsBase64Space(c)) clean += c;
  }
  // Checked here, not left to OpenSSL: it also skips a trailing '-' (a PEM footer's dashes).
  size_t data = 0;
  while (data < clean.size() && IsBase64Digit(clean[data])) ++data;
  const size_t padding = clean.size() - data;
  if (padding > 2 || clean.find_first_not_of('=', data) != std::string::npos) return std::nullopt;
  if (data % 4 == 1 || (padding > 0 && clean.size() % 4 != 0)) return std::nullopt;
  clean.resize(data);
  const size_t missing = (4 - data % 4) % 4;
  clean.append(missing, '=');
  std::string out(clean.size() / 4 * 3, '\0');
  size_t written = 0;
  for (size_t i = 0; i < clean.size(); i += kBase64Block / 3 * 4) {
    const size_t n = std::min(kBase64Block / 3 * 4, clean.size() - i);
    int got = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                              reinterpret_cast<const unsigned char*>(clean.data() + i),
                              static_cast<int>(n));
    if (got < 0) return std::nullopt;
    written += static_cast<size_t>(got);
  }
  out.resize(written - missing);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = OPENSSL_hexchar2int(static_cast<unsigned char>(hex[i]));
    int lo = OPENSSL_hexchar2int(static_cast<unsigned char>(hex[i + 1]));
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && s[i] == '+') ? ' ' : s[i];
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string EscapeMarkup(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::optional<std::string> UnsafeArchivePath(std::string_view path) {
  if (path.empty()) return "has an empty name";
  if (path.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (path[0] == '/' || path[0] == '\\') return "is an absolute path";
  if (path.size() >= 2 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':') {
    return "is an absolute path (it names a drive)";
  }
  size_t start = 0;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/' && path[i] != '\\') continue;
    std::string_view segment = path.substr(start, i - start);
    start = i + 1;
    // Windows drops trailing dots and spaces, so ". ." and "..." may mean "..".
    if (segment.find("..") != std::string_view::npos &&
        segment.find_first_not_of(". ") == std::string_view::npos) {
      return "has a '..' segment";
    }
  }
  return std::nullopt;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // cut short
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace cuttle::core
