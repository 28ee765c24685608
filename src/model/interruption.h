// An interruption's Octopus JSON shape (InterruptionResource, reference-octopus-deployment-model.md
// §2.15): the form a manual intervention or a guided failure asks the user to fill in, its answer
// once submitted, and who is responsible for it. Pure; thread-safe.
//
// The row is deploy::Interruption; only its fields are used here (the header is plain data), so
// cuttle_model does not link cuttle_deploy.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "deploy/interruptions.h"

namespace cuttle::model {

// `caller_user_id` decides HasResponsibility.
nlohmann::json InterruptionJson(const deploy::Interruption& i, std::string_view caller_user_id);

// The form's elements: for a manual intervention the Instructions (a Paragraph), Notes (a
// TextArea) and Result (Proceed / Abort buttons); for guided failure Notes and Guidance (Fail,
// Retry, and Ignore and Exclude when details.CanIgnore).
nlohmann::json InterruptionFormElements(const deploy::Interruption& i);

}  // namespace cuttle::model
