// What the Octopus documents of the model have in common: the property bag of keys Cuttle does not
// know (kept on save and given back, as Octopus clients round-trip whole documents), and slugs.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

namespace cuttle::model {

// The properties of `body` whose names (case-insensitively) are not in `known`, nor Id, SpaceId or
// Links (which the server owns).
nlohmann::json Extras(const nlohmann::json& body, std::span<const std::string_view> known);

// `base` updated with `changes` key by key (a PUT's unknown properties over the stored ones).
nlohmann::json MergeExtras(nlohmann::json base, const nlohmann::json& changes);

// Adds each property of `extra` that `doc` does not already have: known fields always win.
void AddExtras(nlohmann::json& doc, const nlohmann::json& extra);

// Octopus's slug of a name: lower-case, each run of characters other than letters and digits
// becomes one '-', none at either end ("My App (EU)" -> "my-app-eu").
std::string Slugify(std::string_view name);

}  // namespace cuttle::model
