#include "model/lifecycle.h"

#include <algorithm>

#include "core/strings.h"
#include "model/document.h"

namespace cuttle::model {

namespace {

using nlohmann::json;

std::string StringOf(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool BoolOf(const json& doc, const char* key, bool fallback = false) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

int64_t IntOf(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::vector<std::string> StringsOf(const json& doc, const char* key) {
  std::vector<std::string> out;
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<RetentionPolicy> RetentionOf(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_object()) return std::nullopt;
  RetentionPolicy r;
  r.quantity_to_keep = IntOf(*it, "QuantityToKeep");
  r.should_keep_forever = BoolOf(*it, "ShouldKeepForever", r.quantity_to_keep == 0);
  const std::string unit = StringOf(*it, "Unit");
  if (!unit.empty()) r.unit = unit;
  return r;
}

json OptionalRetentionJson(const std::optional<RetentionPolicy>& r) {
  return r ? RetentionJson(*r) : json(nullptr);
}

Phase PhaseOf(const json& doc) {
  Phase p;
  p.id = StringOf(doc, "Id");
  p.name = StringOf(doc, "Name");
  p.automatic_deployment_targets = StringsOf(doc, "AutomaticDeploymentTargets");
  p.optional_deployment_targets = StringsOf(doc, "OptionalDeploymentTargets");
  p.minimum_environments_before_promotion = IntOf(doc, "MinimumEnvironmentsBeforePromotion");
  p.is_optional_phase = BoolOf(doc, "IsOptionalPhase");
  p.is_priority_phase = BoolOf(doc, "IsPriorityPhase");
  p.release_retention_policy = RetentionOf(doc, "ReleaseRetentionPolicy");
  p.tentacle_retention_policy = RetentionOf(doc, "TentacleRetentionPolicy");
  auto extra = doc.find("Extra");
  if (extra != doc.end() && extra->is_object()) p.extra = *extra;
  return p;
}

// The phase's known fields; PhaseJson adds the unknown ones, the stored form keeps them apart.
json PhaseFields(const Phase& p) {
  return {{"Id", p.id},
          {"Name", p.name},
          {"AutomaticDeploymentTargets", p.automatic_deployment_targets},
          {"OptionalDeploymentTargets", p.optional_deployment_targets},
          {"MinimumEnvironmentsBeforePromotion", p.minimum_environments_before_promotion},
          {"IsOptionalPhase", p.is_optional_phase},
          {"IsPriorityPhase", p.is_priority_phase},
          {"ReleaseRetentionPolicy", OptionalRetentionJson(p.release_retention_policy)},
          {"TentacleRetentionPolicy", OptionalRetentionJson(p.tentacle_retention_policy)}};
}

json PhaseJson(const Phase& p) {
  json doc = PhaseFields(p);
  AddExtras(doc, p.extra);
  return doc;
}

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::any_of(ids.begin(), ids.end(),
                     [&](const std::string& x) { return core::EqualsIgnoreCase(x, id); });
}

}  // namespace

json RetentionJson(const RetentionPolicy& r) {
  return {{"QuantityToKeep", r.quantity_to_keep},
          {"ShouldKeepForever", r.should_keep_forever},
          {"Unit", r.unit}};
}

Lifecycle LifecycleFromRow(const repo::LifecycleRow& row) {
  const json& doc = row.doc;
  Lifecycle l;
  l.id = row.id;
  l.space_id = row.space_id;
  l.name = row.name;
  l.description = StringOf(doc, "Description");
  l.slug = StringOf(doc, "Slug");
  auto phases = doc.find("Phases");
  if (phases != doc.end() && phases->is_array()) {
    for (const auto& p : *phases) {
      if (p.is_object()) l.phases.push_back(PhaseOf(p));
    }
  }
  l.release_retention_policy =
      RetentionOf(doc, "ReleaseRetentionPolicy").value_or(RetentionPolicy{});
  l.tentacle_retention_policy =
      RetentionOf(doc, "TentacleRetentionPolicy").value_or(RetentionPolicy{});
  auto extra = doc.find("Extra");
  if (extra != doc.end() && extra->is_object()) l.extra = *extra;
  return l;
}

repo::LifecycleRow LifecycleToRow(const Lifecycle& l) {
  json phases = json::array();
  for (const auto& p : l.phases) {
    // Unknown properties are kept apart, so they can never shadow a known field.
    json doc = PhaseFields(p);
    doc["Extra"] = p.extra;
    phases.push_back(std::move(doc));
  }
  json doc = {{"Description", l.description},
              {"Slug", l.slug},
              {"Phases", std::move(phases)},
              {"ReleaseRetentionPolicy", RetentionJson(l.release_retention_policy)},
              {"TentacleRetentionPolicy", RetentionJson(l.tentacle_retention_policy)},
              {"Extra", l.extra}};
  return repo::LifecycleRow{l.id, l.space_id, l.name, std::move(doc)};
}

std::vector<std::string> NamedEnvironments(const Lifecycle& l) {
  std::vector<std::string> out;
  for (const auto& p : l.phases) {
    for (const auto* list : {&p.automatic_deployment_targets, &p.optional_deployment_targets}) {
      for (const auto& id : *list) {
        if (!Contains(out, id)) out.push_back(id);
      }
    }
  }
  return out;
}

json LifecycleJson(const Lifecycle& l) {
  json phases = json::array();
  for (const auto& p : l.phases) phases.push_back(PhaseJson(p));
  const std::string self = "/api/" + l.space_id + "/lifecycles/" + l.id;
  json doc = {{"Id", l.id},
              {"SpaceId", l.space_id},
              {"Name", l.name},
              {"Slug", l.slug.empty() ? Slugify(l.name) : l.slug},
              {"Description", l.description},
              {"Phases", std::move(phases)},
              {"ReleaseRetentionPolicy", RetentionJson(l.release_retention_policy)},
              {"TentacleRetentionPolicy", RetentionJson(l.tentacle_retention_policy)},
              {"Links",
               {{"Self", self}, {"Preview", self + "/preview"}, {"Projects", self + "/projects"}}}};
  AddExtras(doc, l.extra);
  return doc;
}

std::vector<ResolvedPhase> ResolvePhases(
    const std::vector<Phase>& phases,
    const std::vector<repo::EnvironmentRow>& environments_in_sort_order) {
  std::vector<ResolvedPhase> out;
  if (phases.empty()) {
    for (const auto& env : environments_in_sort_order) {
      Phase p;
      p.name = env.name;
      p.optional_deployment_targets = {env.id};
      out.push_back({std::move(p), {env.id}});
    }
    return out;
  }
  std::vector<std::string> named_earlier;
  for (const auto& phase : phases) {
    ResolvedPhase resolved{phase, {}};
    const bool names_none =
        phase.automatic_deployment_targets.empty() && phase.optional_deployment_targets.empty();
    for (const auto& env : environments_in_sort_order) {
      const bool in_phase = names_none ? !Contains(named_earlier, env.id)
                                       : Contains(phase.automatic_deployment_targets, env.id) ||
                                             Contains(phase.optional_deployment_targets, env.id);
      if (in_phase) resolved.environment_ids.push_back(env.id);
    }
    for (const auto* list :
         {&phase.automatic_deployment_targets, &phase.optional_deployment_targets}) {
      named_earlier.insert(named_earlier.end(), list->begin(), list->end());
    }
    out.push_back(std::move(resolved));
  }
  return out;
}

}  // namespace cuttle::model
