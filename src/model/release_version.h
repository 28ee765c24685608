// The version of a release created without one, from the project's versioning template
// (VersioningStrategy.Template; Octopus's default "#{Octopus.Version.LastMajor}.
// #{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}"). Pure; thread-safe.
//
// Tokens: Octopus.Version.(Last|Next)(Major|Minor|Patch|Build|Revision|Suffix), the same under
// Octopus.Version.Channel. (from the channel's latest release), Octopus.Release.Channel.Name,
// Octopus.Date.(Day|Month|Year|DayOfYear) and Octopus.Time.(Hour|Minute|Second) (UTC). Build and
// Revision are both the fourth part; Suffix is "-<pre-release>" or "". Next* is Last* + 1 (Suffix
// stays). A template without tokens may use Octopus's mask characters: a part "i" is the last
// version's part + 1, "c" the last version's part ("2.1.c.i").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"

namespace cuttle::model {

struct VersionContext {
  std::optional<std::string> last_version;          // the project's latest release, if any
  std::optional<std::string> channel_last_version;  // the channel's latest release, if any
  std::string channel_name;
  int64_t now_ms = 0;  // for Octopus.Date / Octopus.Time
};

// The version the template gives; an unknown token or an empty result is InvalidArgument naming
// it.
Result<std::string> ExpandVersionTemplate(const std::string& template_text,
                                          const VersionContext& context);

// Octopus's default template.
inline constexpr const char* kDefaultVersionTemplate =
    "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}";

}  // namespace cuttle::model
