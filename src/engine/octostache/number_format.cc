#include "engine/octostache/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cuttle::engine::octostache {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A decimal number as digits: value = 0.d1d2d3... x 10^int_len. Trailing zeros are kept because
// a decimal's scale shows in its text ("23.40").
struct Num {
  bool negative = false;
  std::string digits;  // no leading zeros; empty for zero
  int int_len = 0;

  bool IsZero() const { return digits.find_first_not_of('0') == std::string::npos; }
  int Scale() const { return std::max(0, static_cast<int>(digits.size()) - int_len); }
};

void StripLeadingZeros(Num& n) {
  size_t k = 0;
  while (k < n.digits.size() && n.digits[k] == '0') ++k;
  n.digits.erase(0, k);
  n.int_len -= static_cast<int>(k);
  if (n.digits.empty()) n.int_len = 0;
}

Num FromDigits(bool negative, std::string_view int_part, std::string_view frac_part) {
  Num n;
  n.negative = negative;
  n.digits.assign(int_part);
  n.digits.append(frac_part);
  n.int_len = static_cast<int>(int_part.size());
  StripLeadingZeros(n);
  return n;
}

// The shortest round-trip digits of a finite double.
Num FromDouble(double v) {
  Num n;
  n.negative = std::signbit(v);
  if (v == 0) return n;
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string_view text(buf, r.ptr - buf);
  size_t e = text.find('e');
  std::string_view mantissa = text.substr(0, e);
  int exponent = std::stoi(std::string(text.substr(e + 1)));
  for (char c : mantissa) {
    if (IsDigit(c)) n.digits += c;
  }
  while (n.digits.size() > 1 && n.digits.back() == '0') n.digits.pop_back();
  n.int_len = exponent + 1;
  return n;
}

// Rounds half away from zero to `keep` digits of `n.digits`.
void RoundAt(Num& n, int keep) {
  if (keep >= static_cast<int>(n.digits.size())) return;
  if (keep < 0) {
    n.digits.clear();
    n.int_len = 0;
    return;
  }
  bool up = n.digits[keep] >= '5';
  n.digits.resize(keep);
  if (up) {
    int i = keep - 1;
    while (i >= 0 && n.digits[i] == '9') {
      n.digits[i] = '0';
      --i;
    }
    if (i >= 0) {
      ++n.digits[i];
    } else {
      n.digits.insert(n.digits.begin(), '1');
      ++n.int_len;
    }
  }
  StripLeadingZeros(n);
}

void RoundToFraction(Num& n, int fraction_digits) { RoundAt(n, n.int_len + fraction_digits); }

std::string IntegerDigits(const Num& n) {
  std::string out;
  for (int i = 0; i < n.int_len; ++i) {
    out += i < static_cast<int>(n.digits.size()) ? n.digits[i] : '0';
  }
  return out;
}

std::string FractionDigits(const Num& n, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    int at = n.int_len + i;
    out += at >= 0 && at < static_cast<int>(n.digits.size()) ? n.digits[at] : '0';
  }
  return out;
}

std::string Group(const std::string& integer) {
  std::string out;
  int count = 0;
  for (auto it = integer.rbegin(); it != integer.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out += ',';
    out += *it;
    ++count;
  }
  return std::string(out.rbegin(), out.rend());
}

std::string Fixed(const Num& n, int fraction, bool group) {
  std::string integer = IntegerDigits(n);
  if (integer.empty()) integer.push_back('0');
  std::string out = group ? Group(integer) : integer;
  if (fraction > 0) {
    out += '.';
    out += FractionDigits(n, fraction);
  }
  return out;
}

std::string Exponent(int e, int min_digits, bool plus) {
  std::string digits = std::to_string(std::abs(e));
  while (static_cast<int>(digits.size()) < min_digits) digits.insert(digits.begin(), '0');
  return (e < 0 ? "-" : (plus ? "+" : "")) + digits;
}

// d.dddE+xxx with `precision` fraction digits (standard format E).
std::string Scientific(Num n, int precision, char e, int exponent_digits) {
  if (n.IsZero()) {
    std::string zero = "0";
    if (precision > 0) zero.append(1, '.').append(precision, '0');
    zero += e;
    zero += Exponent(0, exponent_digits, true);
    return zero;
  }
  RoundAt(n, precision + 1);
  int exponent = n.int_len - 1;
  std::string digits = n.digits;
  digits.resize(precision + 1, '0');
  std::string out(1, digits[0]);
  if (precision > 0) out.append(1, '.').append(digits, 1);
  out += e;
  out += Exponent(exponent, exponent_digits, true);
  return out;
}

// The general format: fixed unless the exponent is out of range, then d.ddE+xx.
std::string General(const Num& n, int significant, char e) {
  if (n.IsZero()) return "0";
  int exponent = n.int_len - 1;
  std::string digits = n.digits;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (exponent >= significant || exponent < -5) {
    std::string out(1, digits[0]);
    if (digits.size() > 1) out.append(1, '.').append(digits, 1);
    out += e;
    out += Exponent(exponent, 2, true);
    return out;
  }
  Num trimmed = n;
  trimmed.digits = digits;
  return Fixed(trimmed, std::max(0, static_cast<int>(digits.size()) - n.int_len), false);
}

std::string Signed(const Num& n, std::string body) {
  return n.negative && !n.IsZero() ? std::string("-").append(body) : body;
}

std::optional<std::string> Standard(Num n, NumberType type, char spec, int precision,
                                    int64_t integer) {
  char upper = static_cast<char>(spec >= 'a' ? spec - 'a' + 'A' : spec);
  switch (upper) {
    case 'C': {
      int p = precision < 0 ? 2 : precision;
      RoundToFraction(n, p);
      return Signed(n, std::string("$").append(Fixed(n, p, true)));
    }
    case 'D': {
      if (type != NumberType::kInt32) return std::nullopt;
      std::string digits = std::to_string(integer < 0 ? -integer : integer);
      while (static_cast<int>(digits.size()) < precision) digits.insert(digits.begin(), '0');
      return integer < 0 ? "-" + digits : digits;
    }
    case 'E':
      return Signed(n, Scientific(n, precision < 0 ? 6 : precision, spec == 'e' ? 'e' : 'E', 3));
    case 'F': {
      int p = precision < 0 ? 2 : precision;
      RoundToFraction(n, p);
      return Signed(n, Fixed(n, p, false));
    }
    case 'N': {
      int p = precision < 0 ? 2 : precision;
      RoundToFraction(n, p);
      return Signed(n, Fixed(n, p, true));
    }
    case 'P': {
      int p = precision < 0 ? 2 : precision;
      n.int_len += 2;
      RoundToFraction(n, p);
      return Signed(n, Fixed(n, p, true) + "%");
    }
    case 'G': {
      char e = spec == 'g' ? 'e' : 'E';
      if (precision <= 0) {
        if (type == NumberType::kDouble) return Signed(n, General(n, 15, e));
        if (type == NumberType::kInt32) return std::to_string(integer);
        // A decimal prints every digit of its scale.
        return Signed(n, Fixed(n, n.Scale(), false));
      }
      RoundAt(n, precision);
      return Signed(n, General(n, precision, e));
    }
    case 'R':
      if (type != NumberType::kDouble) return std::nullopt;
      return Signed(n, General(n, 15, 'E'));
    case 'X': {
      if (type != NumberType::kInt32) return std::nullopt;
      static constexpr char kLower[] = "0123456789abcdef";
      static constexpr char kUpper[] = "0123456789ABCDEF";
      const char* set = spec == 'x' ? kLower : kUpper;
      uint32_t u = static_cast<uint32_t>(static_cast<int32_t>(integer));
      std::string out;
      do {
        out.insert(out.begin(), set[u & 15]);
        u >>= 4;
      } while (u != 0);
      while (static_cast<int>(out.size()) < precision) out.insert(out.begin(), '0');
      return out;
    }
    default:
      return std::nullopt;
  }
}

// One section of a custom pattern, read into what decides the number's shape.
struct Pattern {
  std::string text;
  int int_placeholders = 0;
  int int_zeros = 0;  // placeholders from the leftmost '0' of the integer part
  int frac_zeros = 0;
  int frac_max = 0;
  bool grouping = false;
  int scale_thousands = 0;
  int percent = 0;
  int permille = 0;
  bool has_point = false;
};

std::vector<std::string> Sections(std::string_view format) {
  std::vector<std::string> out(1);
  char quote = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < format.size()) {
      out.back() += c;
      c = format[++i];
    } else if (c == ';') {
      out.emplace_back();
      continue;
    }
    out.back() += c;
  }
  return out;
}

Pattern Analyze(const std::string& section) {
  Pattern p;
  p.text = section;
  char quote = 0;
  bool seen_zero = false;
  int pending_commas = 0;  // commas after the last integer placeholder
  for (size_t i = 0; i < section.size(); ++i) {
    char c = section[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\') {
      ++i;
    } else if (c == '%') {
      ++p.percent;
    } else if (section.compare(i, 3, "\u2030") == 0) {
      ++p.permille;
      i += 2;
    } else if (p.has_point) {
      if (c == '0' || c == '#') {
        ++p.frac_max;
        if (c == '0') p.frac_zeros = p.frac_max;
      }
    } else if (c == '.') {
      p.has_point = true;
      p.scale_thousands += pending_commas;
      pending_commas = 0;
    } else if (c == '0' || c == '#') {
      if (pending_commas > 0 && p.int_placeholders > 0) p.grouping = true;
      pending_commas = 0;
      ++p.int_placeholders;
      if (c == '0') seen_zero = true;
      if (seen_zero) ++p.int_zeros;
    } else if (c == ',') {
      if (p.int_placeholders > 0) ++pending_commas;
    }
  }
  if (!p.has_point) p.scale_thousands += pending_commas;
  return p;
}

std::string Custom(Num n, const Pattern& p, bool with_sign) {
  n.int_len += 2 * p.percent + 3 * p.permille - 3 * p.scale_thousands;
  RoundToFraction(n, p.frac_max);
  std::string integer = IntegerDigits(n);
  while (static_cast<int>(integer.size()) < p.int_zeros) integer.insert(integer.begin(), '0');
  std::string fraction = FractionDigits(n, p.frac_max);
  while (static_cast<int>(fraction.size()) > p.frac_zeros && !fraction.empty() &&
         fraction.back() == '0') {
    fraction.pop_back();
  }
  if (p.grouping) integer = Group(integer);

  std::string out;
  if (with_sign && n.negative && !n.IsZero()) out += '-';
  char quote = 0;
  int int_seen = 0;
  size_t frac_at = 0;
  bool in_fraction = false;
  for (size_t i = 0; i < p.text.size(); ++i) {
    char c = p.text[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        out += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\') {
      if (i + 1 < p.text.size()) out += p.text[++i];
    } else if (!in_fraction && (c == '0' || c == '#')) {
      // The integer digits fill the placeholders from the right; any extra go to the first one.
      int remaining = p.int_placeholders - int_seen;
      if (p.grouping) {
        if (int_seen == 0) out += integer;
      } else {
        int take_from = static_cast<int>(integer.size()) - remaining;
        if (int_seen == 0 && take_from > 0) out += integer.substr(0, take_from);
        if (take_from >= 0 && take_from < static_cast<int>(integer.size())) {
          out += integer[take_from];
        }
      }
      ++int_seen;
    } else if (c == '.' && !in_fraction) {
      in_fraction = true;
      if (!fraction.empty()) out += '.';
    } else if (in_fraction && (c == '0' || c == '#')) {
      if (frac_at < fraction.size()) out += fraction[frac_at];
      ++frac_at;
    } else if (c == ',') {
      // Grouping or scaling; neither is printed.
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> CustomFormat(const Num& n, std::string_view format) {
  std::vector<std::string> sections = Sections(format);
  size_t index = 0;
  if (sections.size() >= 3 && n.IsZero()) {
    index = 2;
  } else if (sections.size() >= 2 && n.negative && !n.IsZero()) {
    index = 1;
  }
  const std::string& chosen = sections[index].empty() ? sections[0] : sections[index];
  return Custom(n, Analyze(chosen), index == 0);
}

bool IsStandard(std::string_view format, char& spec, int& precision) {
  if (format.empty() || format.size() > 3) return false;
  char c = format[0];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  precision = -1;
  if (format.size() > 1) {
    precision = 0;
    for (char d : format.substr(1)) {
      if (!IsDigit(d)) return false;
      precision = precision * 10 + (d - '0');
    }
  }
  spec = c;
  return true;
}

// Reads [ws][sign]digits[,digits][.digits][e[sign]digits][ws], as the number styles allow.
struct Scanned {
  bool negative = false;
  std::string int_part, frac_part;
  int exponent = 0;
};

std::optional<Scanned> Scan(std::string_view text, bool thousands, bool exponent) {
  text = TrimSpace(text);
  Scanned s;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) s.negative = text[i++] == '-';
  while (i < text.size() && (IsDigit(text[i]) || (thousands && text[i] == ',' && i > 0))) {
    if (text[i] != ',') s.int_part += text[i];
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) s.frac_part += text[i++];
  }
  if (s.int_part.empty() && s.frac_part.empty()) return std::nullopt;
  if (exponent && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    bool neg = false;
    if (j < text.size() && (text[j] == '-' || text[j] == '+')) neg = text[j++] == '-';
    size_t start = j;
    int value = 0;
    while (j < text.size() && IsDigit(text[j]))
      value = std::min(value * 10 + (text[j++] - '0'), 9999);
    if (j == start) return std::nullopt;
    s.exponent = neg ? -value : value;
    i = j;
  }
  if (i != text.size()) return std::nullopt;
  return s;
}

std::optional<double> ParseWith(std::string_view text, bool thousands) {
  auto s = Scan(text, thousands, true);
  if (!s) return std::nullopt;
  std::string plain = (s->int_part.empty() ? "0" : s->int_part);
  if (!s->frac_part.empty()) {
    plain += '.';
    plain += s->frac_part;
  }
  plain += 'e';
  plain += std::to_string(s->exponent);
  double v = 0;
  auto r = std::from_chars(plain.data(), plain.data() + plain.size(), v);
  if (r.ec != std::errc() && r.ec != std::errc::result_out_of_range) return std::nullopt;
  return s->negative ? -v : v;
}

}  // namespace

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-\u221E" : "\u221E";
  Num n = FromDouble(value);
  if (n.IsZero()) return n.negative ? "-0" : "0";
  return Signed(n, General(n, 15, 'E'));
}

std::optional<double> ParseInvariantDouble(std::string_view text) { return ParseWith(text, false); }

std::optional<double> ParseCultureDouble(std::string_view text) { return ParseWith(text, true); }

std::optional<std::string> FormatNumber(std::string_view text, NumberType type,
                                        std::string_view format) {
  Num n;
  int64_t integer = 0;
  switch (type) {
    case NumberType::kInt32: {
      auto s = Scan(text, false, false);
      if (!s || !s->frac_part.empty() || s->int_part.empty() || s->int_part.size() > 10) {
        return std::nullopt;
      }
      integer = std::stoll(s->int_part) * (s->negative ? -1 : 1);
      if (integer > INT32_MAX || integer < INT32_MIN) return std::nullopt;
      n = FromDigits(integer < 0, s->int_part, "");
      break;
    }
    case NumberType::kDecimal: {
      auto s = Scan(text, true, false);
      if (!s || s->int_part.size() > 29) return std::nullopt;
      n = FromDigits(s->negative, s->int_part, s->frac_part);
      break;
    }
    case NumberType::kDouble: {
      auto s = Scan(text, true, true);
      if (!s) return std::nullopt;
      std::string plain = (s->int_part.empty() ? "0" : s->int_part) + "." +
                          (s->frac_part.empty() ? "0" : s->frac_part) + "e" +
                          std::to_string(s->exponent);
      double v = 0;
      auto r = std::from_chars(plain.data(), plain.data() + plain.size(), v);
      if (r.ec != std::errc() || !std::isfinite(v)) return std::nullopt;
      n = FromDouble(s->negative ? -v : v);
      break;
    }
  }
  if (format.empty()) format = "G";
  char spec;
  int precision;
  if (IsStandard(format, spec, precision)) return Standard(n, type, spec, precision, integer);
  return CustomFormat(n, format);
}

}  // namespace cuttle::engine::octostache
