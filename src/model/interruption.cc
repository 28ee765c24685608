#include "model/interruption.h"

#include <string>

#include "core/json.h"
#include "core/strings.h"

namespace cuttle::model {

using nlohmann::json;

namespace {

json Button(const char* text, const char* value, bool confirm) {
  return {{"Text", text}, {"Value", value}, {"RequiresConfirmation", confirm}};
}

json Element(const char* name, json control, bool required) {
  return {{"Name", name}, {"Control", std::move(control)}, {"IsValueRequired", required}};
}

// A string array the raiser recorded in details (RelatedDocumentIds, ResponsibleTeamIds).
json Strings(const json& details, std::string_view name) {
  json out = json::array();
  const json* v = core::FindKeyIgnoreCase(details, name);
  if (v && v->is_array()) {
    for (const auto& s : *v) {
      if (s.is_string()) out.push_back(s);
    }
  }
  return out;
}

}  // namespace

json InterruptionFormElements(const deploy::Interruption& i) {
  json notes = Element("Notes", {{"Type", "TextArea"}, {"Label", "Notes"}}, false);
  if (i.type == deploy::InterruptionType::kManualIntervention) {
    const json* text = core::FindKeyIgnoreCase(i.details, "Instructions");
    return json::array(
        {Element("Instructions",
                 {{"Type", "Paragraph"},
                  {"Text", text && text->is_string() ? text->get<std::string>() : std::string()},
                  {"ResolveLinks", true}},
                 false),
         std::move(notes),
         Element("Result",
                 {{"Type", "SubmitButtonGroup"},
                  {"Buttons", json::array({Button("Proceed", "Proceed", false),
                                           Button("Abort", "Abort", true)})}},
                 true)});
  }
  json buttons = json::array({Button("Fail", "Fail", true), Button("Retry", "Retry", false)});
  if (core::FlagMember(i.details, "CanIgnore")) {
    buttons.push_back(Button("Ignore", "Ignore", false));
    buttons.push_back(Button("Exclude machine from deployment", "Exclude", false));
  }
  return json::array(
      {std::move(notes),
       Element("Guidance", {{"Type", "SubmitButtonGroup"}, {"Buttons", std::move(buttons)}},
               true)});
}

json InterruptionJson(const deploy::Interruption& i, std::string_view caller_user_id) {
  json elements = InterruptionFormElements(i);
  // Every element's value: the submitted answer, or null while pending.
  json values = json::object();
  for (const auto& e : elements) {
    const std::string name = e["Name"].get<std::string>();
    const json* v = core::FindKeyIgnoreCase(i.result, name);
    values[name] = v && v->is_string() ? *v : json(nullptr);
  }
  json related = Strings(i.details, "RelatedDocumentIds");
  if (related.empty()) related.push_back(i.task_id);
  const bool responsible = !i.responsible_user_id.empty() &&
                           core::EqualsIgnoreCase(i.responsible_user_id, caller_user_id);
  const std::string self = std::string("/api/") + i.space_id + "/interruptions/" + i.id;
  return {{"Id", i.id},
          {"Title", i.title},
          {"Type", i.type == deploy::InterruptionType::kGuidedFailure ? "GuidedFailure"
                                                                      : "ManualIntervention"},
          {"Created", core::FormatIso8601(i.created)},
          {"IsPending", i.is_pending},
          {"Form", {{"Values", std::move(values)}, {"Elements", std::move(elements)}}},
          {"RelatedDocumentIds", std::move(related)},
          {"ResponsibleTeamIds", Strings(i.details, "ResponsibleTeamIds")},
          {"ResponsibleUserId",
           i.responsible_user_id.empty() ? json(nullptr) : json(i.responsible_user_id)},
          // Every active user holds every permission today (api::Authorize), and Octopus lets a
          // permitted user take over a pending interruption from another.
          {"CanTakeResponsibility", i.is_pending},
          {"HasResponsibility", responsible},
          {"TaskId", i.task_id},
          {"CorrelationId", i.unit_key},
          {"IsLinkedToOtherInterruption", false},
          {"SpaceId", i.space_id},
          {"Links",
           {{"Self", self}, {"Submit", self + "/submit"}, {"Responsible", self + "/responsible"}}}};
}

}  // namespace cuttle::model
