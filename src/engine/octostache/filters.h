// Octostache's built-in filters (`#{Name | ToUpper}`), reference-octopus-deployment-model.md §5.7.
// A filter takes the value piped into it (absent for an unknown variable or `#{ | NowDate}`) and
// its evaluated options, and gives text or "no result", which makes the whole token echo.
// Pure functions of their arguments and the context; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::engine::octostache {

struct FilterContext {
  int64_t now_unix_millis = 0;   // NowDate's "now"
  int local_offset_minutes = 0;  // the server's zone, for NowDate and unzoned dates
};

// Runs the named filter (case-insensitive); nullopt for "no result", including unknown names.
std::optional<std::string> ApplyFilter(std::string_view name,
                                       const std::optional<std::string>& input,
                                       const std::vector<std::string>& options,
                                       const FilterContext& context);

}  // namespace cuttle::engine::octostache
