#include "model/document.h"

#include <cctype>

#include "core/strings.h"

namespace cuttle::model {

nlohmann::json Extras(const nlohmann::json& body, std::span<const std::string_view> known) {
  nlohmann::json out = nlohmann::json::object();
  if (!body.is_object()) return out;
  for (const auto& [key, value] : body.items()) {
    bool is_known = core::EqualsIgnoreCase(key, "Id") || core::EqualsIgnoreCase(key, "SpaceId") ||
                    core::EqualsIgnoreCase(key, "Links");
    for (std::string_view k : known) is_known = is_known || core::EqualsIgnoreCase(key, k);
    if (!is_known) out[key] = value;
  }
  return out;
}

nlohmann::json MergeExtras(nlohmann::json base, const nlohmann::json& changes) {
  if (!base.is_object()) base = nlohmann::json::object();
  for (const auto& [key, value] : changes.items()) base[key] = value;
  return base;
}

void AddExtras(nlohmann::json& doc, const nlohmann::json& extra) {
  if (!extra.is_object()) return;
  for (const auto& [key, value] : extra.items()) {
    if (!doc.contains(key)) doc[key] = value;
  }
}

std::string Slugify(std::string_view name) {
  std::string slug;
  bool dash = false;
  for (unsigned char c : name) {
    if (std::isalnum(c)) {
      if (dash && !slug.empty()) slug += '-';
      dash = false;
      slug += static_cast<char>(std::tolower(c));
    } else {
      dash = true;
    }
  }
  return slug;
}

}  // namespace cuttle::model
