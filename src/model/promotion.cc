#include "model/promotion.h"

#include <algorithm>

namespace cuttle::model {

namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

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
