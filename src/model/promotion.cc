#include "model/promotion.h"

#include <algorithm>

namespace cuttle::model {

namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> Strings(const nlohmann::json& doc, const char* key) {
  std::vector<std::string> out;
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

std::vector<PromotionPhase> ExpandLifecyclePhases(const nlohmann::json& lifecycle,
                                                  const std::vector<std::string>& environments) {
  std::vector<PromotionPhase> out;
  auto phases = lifecycle.find("Phases");
  if (phases == lifecycle.end() || !phases->is_array() || phases->empty()) {
    for (const auto& env : environments) out.push_back(PromotionPhase{env, {env}, 0, false});
    return out;
  }
  std::set<std::string> named;
  for (const auto& p : *phases) {
    if (!p.is_object()) continue;
    PromotionPhase phase;
    phase.name = p.value("Name", "");
    for (const char* key : {"AutomaticDeploymentTargets", "OptionalDeploymentTargets"}) {
      for (auto& env : Strings(p, key)) {
        if (!Contains(phase.environment_ids, env)) phase.environment_ids.push_back(env);
      }
    }
    if (phase.environment_ids.empty()) {
      for (const auto& env : environments) {
        if (!named.count(env)) phase.environment_ids.push_back(env);
      }
    }
    for (const auto& env : phase.environment_ids) named.insert(env);
    auto minimum = p.find("MinimumEnvironmentsBeforePromotion");
    if (minimum != p.end() && minimum->is_number_integer()) {
      phase.minimum_environments_before_promotion = minimum->get<int>();
    }
    auto optional = p.find("IsOptionalPhase");
    phase.is_optional = optional != p.end() && optional->is_boolean() && optional->get<bool>();
    out.push_back(std::move(phase));
  }
  return out;
}

Promotion EvaluatePromotion(const std::vector<PromotionPhase>& phases,
                            const std::set<std::string>& succeeded) {
  Promotion out;
  out.phases.reserve(phases.size());
  out.blocked_by.reserve(phases.size());
  std::optional<size_t> blocker;  // the first earlier phase neither complete nor optional
  for (size_t i = 0; i < phases.size(); ++i) {
    const PromotionPhase& p = phases[i];
    PhaseStatus s;
    std::set<std::string> distinct(p.environment_ids.begin(), p.environment_ids.end());
    for (const auto& env : distinct) s.deployed += succeeded.count(env) ? 1 : 0;
    const int size = static_cast<int>(distinct.size());
    // 0 means every environment; a minimum above the phase's size could never be met, so it
    // asks for all of them too.
    s.required = p.minimum_environments_before_promotion <= 0
                     ? size
                     : std::min(p.minimum_environments_before_promotion, size);
    s.complete = s.deployed >= s.required;
    s.deployable = !blocker.has_value();
    out.blocked_by.push_back(blocker);
    if (!blocker && !s.complete && !p.is_optional) blocker = i;
    out.phases.push_back(s);
  }
  for (size_t i = 0; i < phases.size(); ++i) {
    for (const auto& env : phases[i].environment_ids) {
      if ((out.phases[i].deployable || succeeded.count(env)) && !Contains(out.deployable, env)) {
        out.deployable.push_back(env);
      }
    }
  }
  return out;
}

std::optional<std::string> PromotionRefusal(const std::vector<PromotionPhase>& phases,
                                            const std::set<std::string>& succeeded,
                                            const std::string& environment_id,
                                            const std::string& environment_name,
                                            const std::string& release_version,
                                            const std::string& lifecycle_name) {
  const Promotion p = EvaluatePromotion(phases, succeeded);
  if (Contains(p.deployable, environment_id)) return std::nullopt;
  const std::string head =
      "Release " + release_version + " cannot be deployed to " + environment_name + ": ";
  // The environment's first phase is the one that opens soonest, so its blocker is the one to
  // name.
  for (size_t i = 0; i < phases.size(); ++i) {
    if (!Contains(phases[i].environment_ids, environment_id)) continue;
    const size_t b = *p.blocked_by[i];
    const PhaseStatus& s = p.phases[b];
    return head + "the phase '" + phases[b].name + "' must be complete first (" +
           std::to_string(s.deployed) + " of " + std::to_string(s.required) +
           " environments deployed successfully).";
  }
  return head + "the environment is not in the lifecycle '" + lifecycle_name + "'.";
}

}  // namespace cuttle::model
