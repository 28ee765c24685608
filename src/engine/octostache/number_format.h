// Numbers as .NET writes and reads them in the en-US culture, which is what Octostache's calc and
// Format filter produce on an Octopus server: shortest round-trip doubles, standard format strings
// (C, D, E, F, G, N, P, R, X) and custom patterns (`0.00`, `#,##0`, `0%`). Pure functions;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cuttle::engine::octostache {

// double.ToString(): the shortest text that reads back as the same double, in E notation when the
// exponent is below -5 or at least 15 (`1E+15`, `1E-07`).
std::string FormatDouble(double value);

// NumberStyles.Float with the invariant culture: surrounding whitespace, a sign, digits with an
// optional decimal point, an optional exponent.
std::optional<double> ParseInvariantDouble(std::string_view text);
// double.TryParse(text) in en-US: as above, also accepting thousands separators (`1,234.5`).
std::optional<double> ParseCultureDouble(std::string_view text);

enum class NumberType { kDecimal, kDouble, kInt32 };

// `type.TryParse(text)` then `.ToString(format)`; nullopt when the text is not a number of that
// type or the format is not valid for it (.NET's FormatException).
std::optional<std::string> FormatNumber(std::string_view text, NumberType type,
                                        std::string_view format);

}  // namespace cuttle::engine::octostache
