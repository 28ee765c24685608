// Lifecycle promotion (reference-octopus-deployment-model.md §2.3): which environments a release
// may be deployed to now, given the phases of its lifecycle (each already expanded to its set of
// environments by model::ResolvePhases, lifecycle.h) and the environments where the release has a
// successful deployment. Pure functions over plain values; thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cuttle::model {

struct PromotionPhase {
  std::string name;
  std::vector<std::string> environment_ids;  // the phase's environments, in order
  // How many of the phase's environments need a success before the next phase opens; 0 means
  // all of them.
  int minimum_environments_before_promotion = 0;
  bool is_optional = false;  // never holds later phases back
};

// How far a release has got in one phase.
struct PhaseStatus {
  int deployed = 0;  // distinct environments of the phase with a successful deployment
  int required = 0;  // how many the phase needs to be complete
  bool complete = false;
  bool deployable = false;  // every earlier phase is complete or optional
};

struct Promotion {
  std::vector<PhaseStatus> phases;  // one per phase, in order
  // Environments the release may be deployed to now, in phase order, each once: those of the
  // deployable phases, and those where it already succeeded (a redeploy is always allowed).
  std::vector<std::string> deployable;
  // The first phase holding back phase `i` (the first earlier phase neither complete nor
  // optional), or nullopt when phase `i` is deployable.
  std::vector<std::optional<size_t>> blocked_by;
};

// `succeeded`: environment ids (compared exactly) where the release was deployed successfully.
Promotion EvaluatePromotion(const std::vector<PromotionPhase>& phases,
                            const std::set<std::string>& succeeded);

// Why the release may not be deployed to `environment_id`, or nullopt when it may. The message
// names the environment and the phase that blocks it, e.g. "Release 1.0.1 cannot be deployed to
// Production: the phase 'Test' must be complete first (0 of 1 environments deployed
// successfully)." `environment_name` and `lifecycle_name` are only used in the message.
std::optional<std::string> PromotionRefusal(const std::vector<PromotionPhase>& phases,
                                            const std::set<std::string>& succeeded,
                                            const std::string& environment_id,
                                            const std::string& environment_name,
                                            const std::string& release_version,
                                            const std::string& lifecycle_name);

}  // namespace cuttle::model
