// Dates as .NET reads and writes them in the en-US culture, for Octostache's NowDate, AddHours,
// AddDays and Format filters: DateTime (a wall time with a kind) and DateTimeOffset (a wall time
// with its offset), custom and standard format strings (`yyyy-MM-dd`, `O`, `zz`...). The server's
// local zone is a fixed UTC offset handed in by the caller. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cuttle::engine::octostache {

// 100-nanosecond ticks since 0001-01-01T00:00:00, the unit of .NET's DateTime.
inline constexpr int64_t kTicksPerSecond = 10'000'000;
inline constexpr int64_t kTicksPerMinute = 60 * kTicksPerSecond;
inline constexpr int64_t kUnixEpochTicks = 621'355'968'000'000'000;

struct DateValue {
  enum class Kind {
    kUnspecified,  // DateTime without a zone
    kUtc,          // DateTime in UTC ('Z')
    kLocal,        // DateTime in the server's zone
    kOffset,       // DateTimeOffset: wall time at offset_minutes
  };
  int64_t ticks = 0;  // wall-clock ticks
  Kind kind = Kind::kUnspecified;
  int offset_minutes = 0;  // kOffset only
};

// What a date text says, before a DateTime or DateTimeOffset is made of it.
struct ParsedDate {
  int64_t ticks = 0;  // the wall time as written
  enum class Zone { kNone, kUtc, kOffset } zone = Zone::kNone;
  int offset_minutes = 0;
};

// Reads ISO 8601 (`2030-05-22T09:05:00.123+02:00`), `2030/05/22 09:05:00`, en-US `5/22/2030
// 9:05 AM` and month names (`22 May 2030`, `May 22, 2030`).
std::optional<ParsedDate> ParseDate(std::string_view text);

// DateTime.TryParse (DateTimeStyles.None): a zoned text becomes local time, kind kLocal.
DateValue AsDateTime(const ParsedDate& d, int local_offset_minutes);
// DateTime.TryParse with DateTimeStyles.RoundtripKind: 'Z' stays kUtc, an offset becomes kLocal.
DateValue AsRoundtripDateTime(const ParsedDate& d, int local_offset_minutes);
// DateTimeOffset.TryParse: an unzoned text takes the local offset.
DateValue AsDateTimeOffset(const ParsedDate& d, int local_offset_minutes);

// value.ToString(format); nullopt for a format .NET rejects.
std::optional<std::string> FormatDate(const DateValue& value, std::string_view format,
                                      int local_offset_minutes);

}  // namespace cuttle::engine::octostache
