// A channel's Octopus JSON shape (reference-octopus-deployment-model.md §2.4) and its version
// rules: a NuGet version range plus a pre-release tag pattern, checked when a release is created.
// Pure functions and plain values; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "feed/version.h"
#include "repo/channels.h"

namespace cuttle::model {

nlohmann::json ChannelJson(const repo::ChannelRow& c);

// NuGet's range syntax: "1.0" (>= 1.0), "[1.0]" (exactly), "(1.0,)" (> 1.0), "(,1.0]" (<= 1.0),
// "[1.0,2.0)" and the other bracket pairs. Blank means any version.
class VersionRange {
 public:
  // The error says what is wrong with `text`.
  static Result<VersionRange> Parse(std::string_view text);
  bool Contains(const feed::Version& v) const;

 private:
  std::optional<feed::Version> min_;
  std::optional<feed::Version> max_;
  bool min_inclusive_ = false;
  bool max_inclusive_ = false;
};

// Whether `version` passes a channel rule: inside `range` (blank: any) and, when `tag` is not
// blank, its pre-release and metadata part ("beta.1", "beta.1+sha.5", "" for a stable version)
// matches `tag` (an ECMAScript regex, searched as Octopus's Regex.IsMatch does, so "^$" admits
// only stable versions). A malformed range or pattern is an error (kInvalidArgument).
Result<bool> VersionMatchesRule(const feed::Version& version, std::string_view range,
                                std::string_view tag);

// Checks a rule's range and tag syntax (what a channel save validates); nullopt if both are good,
// else the problem.
std::optional<std::string> RuleProblem(std::string_view range, std::string_view tag);

}  // namespace cuttle::model
