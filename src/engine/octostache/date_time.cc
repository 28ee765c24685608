#include "engine/octostache/date_time.h"

#include <array>
#include <cstdlib>

namespace cuttle::engine::octostache {
namespace {

constexpr int64_t kTicksPerDay = 86400 * kTicksPerSecond;

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                   "Thursday", "Friday", "Saturday"};

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month, day, hour, minute, second;
  int64_t fraction;  // ticks within the second
  int weekday;       // 0 = Sunday
};

Civil ToCivil(int64_t ticks) {
  int64_t unix_ticks = ticks - kUnixEpochTicks;
  int64_t days = unix_ticks / kTicksPerDay;
  int64_t rem = unix_ticks % kTicksPerDay;
  if (rem < 0) {
    rem += kTicksPerDay;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  int64_t seconds = rem / kTicksPerSecond;
  c.fraction = rem % kTicksPerSecond;
  c.hour = static_cast<int>(seconds / 3600);
  c.minute = static_cast<int>(seconds / 60 % 60);
  c.second = static_cast<int>(seconds % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  return c;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int64_t y, int m) {
  static constexpr int kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kLen[m - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A small cursor over the text being parsed.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool End() const { return i >= s.size(); }
  char Peek() const { return i < s.size() ? s[i] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i;
    return true;
  }
  void SkipSpaces() {
    while (Peek() == ' ' || Peek() == '\t') ++i;
  }
  // Up to `max` digits, at least `min`.
  bool Number(int min, int max, int64_t& out, int* count = nullptr) {
    size_t start = i;
    out = 0;
    while (i < s.size() && IsDigit(s[i]) && static_cast<int>(i - start) < max) {
      out = out * 10 + (s[i++] - '0');
    }
    if (count) *count = static_cast<int>(i - start);
    if (static_cast<int>(i - start) < min) {
      i = start;
      return false;
    }
    return true;
  }
  std::string_view Word() {
    size_t start = i;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) ++i;
    return s.substr(start, i - start);
  }
};

int MonthFromName(std::string_view word) {
  if (word.size() < 3) return 0;
  for (size_t m = 0; m < kMonths.size(); ++m) {
    std::string_view name = kMonths[m];
    if (word.size() > name.size()) continue;
    bool match = true;
    for (size_t k = 0; k < word.size(); ++k) match = match && Lower(word[k]) == Lower(name[k]);
    if (match && (word.size() == 3 || word.size() == name.size())) return static_cast<int>(m) + 1;
  }
  return 0;
}

bool IsDayName(std::string_view word) {
  for (std::string_view d : kDays) {
    bool full = word.size() == d.size(), shortened = word.size() == 3;
    if (!full && !shortened) continue;
    bool match = true;
    for (size_t k = 0; k < word.size(); ++k) match = match && Lower(word[k]) == Lower(d[k]);
    if (match) return true;
  }
  return false;
}

bool ParseDatePart(Cursor& c, int64_t& y, int& m, int& d) {
  size_t start = c.i;
  int64_t a, b, e;
  int digits = 0;
  if (c.Number(1, 4, a, &digits)) {
    char sep = c.Peek();
    if (digits == 4 && (sep == '-' || sep == '/' || sep == '.')) {
      c.Eat(sep);
      if (!c.Number(1, 2, b) || !c.Eat(sep) || !c.Number(1, 2, e)) return false;
      y = a;
      m = static_cast<int>(b);
      d = static_cast<int>(e);
      return true;
    }
    if (digits <= 2 && (sep == '/' || sep == '-' || sep == '.')) {
      c.Eat(sep);
      if (c.Number(1, 2, b) && c.Eat(sep) && c.Number(2, 4, e, &digits) && digits != 3) {
        m = static_cast<int>(a);
        d = static_cast<int>(b);
        y = digits == 2 ? (e < 50 ? 2000 + e : 1900 + e) : e;
        return true;
      }
      return false;
    }
    if (digits <= 2) {  // 22 May 2030
      c.SkipSpaces();
      int month = MonthFromName(c.Word());
      c.SkipSpaces();
      if (month == 0 || !c.Number(4, 4, y)) return false;
      m = month;
      d = static_cast<int>(a);
      return true;
    }
    return false;
  }
  c.i = start;
  std::string_view word = c.Word();
  if (IsDayName(word)) {  // Wednesday, May 22, 2030
    c.Eat(',');
    c.SkipSpaces();
    word = c.Word();
  }
  int month = MonthFromName(word);
  if (month == 0) return false;
  c.SkipSpaces();
  if (!c.Number(1, 2, a)) return false;
  c.Eat(',');
  c.SkipSpaces();
  if (!c.Number(4, 4, y)) return false;
  m = month;
  d = static_cast<int>(a);
  return true;
}

bool ParseTimePart(Cursor& c, int& hour, int& minute, int& second, int64_t& fraction) {
  int64_t h, mi, se = 0;
  if (!c.Number(1, 2, h) || !c.Eat(':') || !c.Number(2, 2, mi)) return false;
  fraction = 0;
  if (c.Eat(':')) {
    if (!c.Number(2, 2, se)) return false;
    if (c.Eat('.')) {
      int digits = 0;
      int64_t f = 0;
      while (IsDigit(c.Peek())) {
        if (digits < 7) f = f * 10 + (c.Peek() - '0');
        ++digits;
        ++c.i;
      }
      if (digits == 0) return false;
      for (int k = std::min(digits, 7); k < 7; ++k) f *= 10;
      fraction = f;
    }
  }
  size_t before = c.i;
  c.SkipSpaces();
  std::string_view word = c.Word();
  if (word.size() == 2 && Lower(word[1]) == 'm' &&
      (Lower(word[0]) == 'a' || Lower(word[0]) == 'p')) {
    if (h < 1 || h > 12) return false;
    h %= 12;
    if (Lower(word[0]) == 'p') h += 12;
  } else {
    c.i = before;
  }
  hour = static_cast<int>(h);
  minute = static_cast<int>(mi);
  second = static_cast<int>(se);
  return hour < 24 && minute < 60 && second < 60;
}

void AppendPadded(std::string& out, int64_t v, int width) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  if (v < 0) out += '-';
  for (int k = static_cast<int>(digits.size()); k < width; ++k) out += '0';
  out += digits;
}

void AppendOffset(std::string& out, int minutes, int width) {
  out += minutes < 0 ? '-' : '+';
  int a = std::abs(minutes);
  if (width == 1) {
    out += std::to_string(a / 60);
  } else {
    AppendPadded(out, a / 60, 2);
    if (width >= 3) {
      out += ':';
      AppendPadded(out, a % 60, 2);
    }
  }
}

std::string_view StandardPattern(char c, const DateValue& v) {
  bool offset = v.kind == DateValue::Kind::kOffset;
  switch (c) {
    case 'd':
      return "M/d/yyyy";
    case 'D':
      return "dddd, MMMM d, yyyy";
    case 'f':
      return "dddd, MMMM d, yyyy h:mm tt";
    case 'F':
      return "dddd, MMMM d, yyyy h:mm:ss tt";
    case 'g':
      return "M/d/yyyy h:mm tt";
    case 'G':
      return "M/d/yyyy h:mm:ss tt";
    case 'm':
    case 'M':
      return "MMMM d";
    case 'o':
    case 'O':
      return offset ? "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffzzz"
                    : "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK";
    case 'r':
    case 'R':
      return "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'";
    case 's':
      return "yyyy'-'MM'-'dd'T'HH':'mm':'ss";
    case 't':
      return "h:mm tt";
    case 'T':
      return "h:mm:ss tt";
    case 'u':
      return "yyyy'-'MM'-'dd HH':'mm':'ss'Z'";
    case 'U':
      return offset ? "" : "dddd, MMMM d, yyyy h:mm:ss tt";
    case 'y':
    case 'Y':
      return "MMMM yyyy";
    default:
      return "";
  }
}

int RunLength(std::string_view f, size_t i) {
  size_t j = i;
  while (j < f.size() && f[j] == f[i]) ++j;
  return static_cast<int>(j - i);
}

std::optional<std::string> FormatCustom(const DateValue& v, std::string_view f, int local) {
  Civil c = ToCivil(v.ticks);
  int offset = v.kind == DateValue::Kind::kOffset ? v.offset_minutes : local;
  std::string out;
  for (size_t i = 0; i < f.size();) {
    char ch = f[i];
    int n = RunLength(f, i);
    switch (ch) {
      case 'd':
        if (n <= 2)
          AppendPadded(out, c.day, n);
        else
          out += n == 3 ? kDays[c.weekday].substr(0, 3) : kDays[c.weekday];
        break;
      case 'f':
      case 'F': {
        if (n > 7) return std::nullopt;
        std::string digits = std::to_string(c.fraction + kTicksPerSecond).substr(1, n);
        if (ch == 'F') {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (digits.empty() && !out.empty() && out.back() == '.') out.pop_back();
        }
        out += digits;
        break;
      }
      case 'g':
        out += "A.D.";
        break;
      case 'h':
        AppendPadded(out, c.hour % 12 == 0 ? 12 : c.hour % 12, std::min(n, 2));
        break;
      case 'H':
        AppendPadded(out, c.hour, std::min(n, 2));
        break;
      case 'm':
        AppendPadded(out, c.minute, std::min(n, 2));
        break;
      case 's':
        AppendPadded(out, c.second, std::min(n, 2));
        break;
      case 'M':
        if (n <= 2)
          AppendPadded(out, c.month, n);
        else
          out += n == 3 ? kMonths[c.month - 1].substr(0, 3) : kMonths[c.month - 1];
        break;
      case 't':
        out += n == 1 ? (c.hour < 12 ? "A" : "P") : (c.hour < 12 ? "AM" : "PM");
        break;
      case 'y':
        if (n == 1)
          out += std::to_string(c.year % 100);
        else if (n == 2)
          AppendPadded(out, c.year % 100, 2);
        else
          AppendPadded(out, c.year, n);
        break;
      case 'z':
        AppendOffset(out, offset, std::min(n, 3));
        break;
      case 'K':
        if (v.kind == DateValue::Kind::kUtc)
          out += 'Z';
        else if (v.kind != DateValue::Kind::kUnspecified)
          AppendOffset(out, offset, 3);
        n = 1;
        break;
      case ':':
        out += ':';
        n = 1;
        break;
      case '/':
        out += '/';
        n = 1;
        break;
      case '\'':
      case '"': {
        size_t end = f.find(ch, i + 1);
        if (end == std::string_view::npos) return std::nullopt;
        out.append(f.substr(i + 1, end - i - 1));
        n = static_cast<int>(end - i + 1);
        break;
      }
      case '%':
        n = 1;
        break;
      case '\\':
        if (i + 1 >= f.size()) return std::nullopt;
        out += f[i + 1];
        n = 2;
        break;
      default:
        out += ch;
        n = 1;
        break;
    }
    i += n;
  }
  return out;
}

}  // namespace

std::optional<ParsedDate> ParseDate(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  Cursor c{text};
  int64_t year;
  int month, day, hour = 0, minute = 0, second = 0;
  int64_t fraction = 0;
  if (!ParseDatePart(c, year, month, day)) return std::nullopt;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month)) {
    return std::nullopt;
  }
  size_t before_time = c.i;
  if (!c.Eat('T')) c.SkipSpaces();
  if (!c.End() && IsDigit(c.Peek())) {
    if (!ParseTimePart(c, hour, minute, second, fraction)) return std::nullopt;
  } else {
    c.i = before_time;
  }
  ParsedDate d;
  c.SkipSpaces();
  if (c.Eat('Z') || c.Eat('z')) {
    d.zone = ParsedDate::Zone::kUtc;
  } else if (c.Peek() == '+' || c.Peek() == '-') {
    bool negative = c.Peek() == '-';
    ++c.i;
    int64_t hh, mm = 0;
    if (!c.Number(1, 2, hh)) return std::nullopt;
    if (c.Eat(':')) {
      if (!c.Number(2, 2, mm)) return std::nullopt;
    } else {
      c.Number(2, 2, mm);
    }
    if (hh > 14 || mm > 59) return std::nullopt;
    d.zone = ParsedDate::Zone::kOffset;
    d.offset_minutes = static_cast<int>((hh * 60 + mm) * (negative ? -1 : 1));
  }
  if (!c.End()) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  d.ticks = kUnixEpochTicks + days * kTicksPerDay +
            (hour * 3600 + minute * 60 + second) * kTicksPerSecond + fraction;
  return d;
}

DateValue AsDateTime(const ParsedDate& d, int local) {
  switch (d.zone) {
    case ParsedDate::Zone::kNone:
      return DateValue{d.ticks, DateValue::Kind::kUnspecified, 0};
    case ParsedDate::Zone::kUtc:
      return DateValue{d.ticks + local * kTicksPerMinute, DateValue::Kind::kLocal, 0};
    case ParsedDate::Zone::kOffset:
      return DateValue{d.ticks + (local - d.offset_minutes) * kTicksPerMinute,
                       DateValue::Kind::kLocal, 0};
  }
  return {};
}

DateValue AsRoundtripDateTime(const ParsedDate& d, int local) {
  if (d.zone == ParsedDate::Zone::kUtc) return DateValue{d.ticks, DateValue::Kind::kUtc, 0};
  return AsDateTime(d, local);
}

DateValue AsDateTimeOffset(const ParsedDate& d, int local) {
  int offset = d.zone == ParsedDate::Zone::kNone  ? local
               : d.zone == ParsedDate::Zone::kUtc ? 0
                                                  : d.offset_minutes;
  return DateValue{d.ticks, DateValue::Kind::kOffset, offset};
}

std::optional<std::string> FormatDate(const DateValue& value, std::string_view format, int local) {
  if (format.empty()) format = "G";
  if (format.size() == 1) {
    std::string_view pattern = StandardPattern(format[0], value);
    if (pattern.empty()) return std::nullopt;
    DateValue v = value;
    char f = format[0];
    bool to_utc = f == 'r' || f == 'R' || f == 'u' || f == 'U';
    if (to_utc && v.kind == DateValue::Kind::kOffset) {
      v.ticks -= v.offset_minutes * kTicksPerMinute;
      v.offset_minutes = 0;
    } else if (f == 'U' && v.kind != DateValue::Kind::kUtc) {
      v.ticks -= local * kTicksPerMinute;
    }
    return FormatCustom(v, pattern, local);
  }
  return FormatCustom(value, format, local);
}

}  // namespace cuttle::engine::octostache
