// The built-in feed's Octopus JSON shapes: a package (PackageResource), a package version as the
// feed's search lists it, and the feed itself (FeedResource). Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "repo/packages.h"

namespace cuttle::model {

// The one feed every space has, as Octopus names it.
inline constexpr const char* kBuiltInFeedId = "feeds-builtin";

nlohmann::json PackageJson(const repo::PackageRow& p);
nlohmann::json PackageVersionJson(const repo::PackageRow& p);
nlohmann::json BuiltInFeedJson(const std::string& space);

}  // namespace cuttle::model
