#include "model/process.h"

#include <map>

#include "core/ids.h"
#include "core/strings.h"
#include "model/project.h"

namespace cuttle::model {

namespace {

using nlohmann::json;

const std::vector<std::string> kStepConditions = {"Success", "Failure", "Always", "Variable"};
const std::vector<std::string> kActionConditions = {"Success", "Variable"};
const std::vector<std::string> kStartTriggers = {"StartAfterPrevious", "StartWithPrevious"};
const std::vector<std::string> kPackageRequirements = {
    "LetOctopusDecide", "BeforePackageAcquisition", "AfterPackageAcquisition"};
const std::vector<std::string> kActionTypes = {"Octopus.Script", "Octopus.TentaclePackage",
                                               "Octopus.Manual"};
const std::vector<std::string> kAcquisitionLocations = {"Server", "ExecutionTarget", "NotAcquired"};

// Reads fields of one element of the document, naming problems by the element's place.
class Fields {
 public:
  Fields(json& object, std::string place, std::vector<std::string>& problems)
      : o_(object), place_(std::move(place)), problems_(problems) {}

  // The key as the client spelled it (PascalCase or camelCase) moved to `name`.
  json* Find(const std::string& name) {
    for (auto it = o_.begin(); it != o_.end(); ++it) {
      if (core::EqualsIgnoreCase(it.key(), name)) {
        if (it.key() != name) {
          json v = std::move(it.value());
          o_.erase(it);
          o_[name] = std::move(v);
        }
        return &o_[name];
      }
    }
    return nullptr;
  }
  void Problem(const std::string& name, const std::string& what) {
    problems_.push_back(place_ + "." + name + " " + what);
  }
  std::string String(const std::string& name, bool required) {
    json* v = Find(name);
    if (v == nullptr || v->is_null() ||
        (v->is_string() && core::Trim(v->get<std::string>()).empty())) {
      if (required) Problem(name, "is required.");
      o_[name] = "";
      return "";
    }
    if (!v->is_string()) {
      Problem(name, "must be a string.");
      return "";
    }
    return v->get<std::string>();
  }
  void NullableString(const std::string& name) {
    json* v = Find(name);
    if (v == nullptr) {
      o_[name] = nullptr;
    } else if (!v->is_null() && !v->is_string()) {
      Problem(name, "must be a string or null.");
    }
  }
  void Id() {
    json* v = Find("Id");
    if (v == nullptr || v->is_null() || (v->is_string() && v->get<std::string>().empty())) {
      o_["Id"] = core::NewUuid();
    } else if (!v->is_string()) {
      Problem("Id", "must be a string.");
    }
  }
  void Enum(const std::string& name, const std::vector<std::string>& allowed) {
    json* v = Find(name);
    if (v == nullptr || v->is_null()) {
      o_[name] = allowed.front();
      return;
    }
    if (v->is_string()) {
      for (const auto& a : allowed) {
        if (core::EqualsIgnoreCase(a, v->get<std::string>())) {
          *v = a;
          return;
        }
      }
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    Problem(name, "must be one of " + list + ".");
  }
  void Bool(const std::string& name) {
    json* v = Find(name);
    if (v == nullptr || v->is_null()) {
      o_[name] = false;
    } else if (v->is_string() && (core::EqualsIgnoreCase(v->get<std::string>(), "true") ||
                                  core::EqualsIgnoreCase(v->get<std::string>(), "false"))) {
      *v = core::EqualsIgnoreCase(v->get<std::string>(), "true");
    } else if (!v->is_boolean()) {
      Problem(name, "must be true or false.");
    }
  }
  std::vector<std::string> StringList(const std::string& name) {
    json* v = Find(name);
    std::vector<std::string> out;
    if (v == nullptr || v->is_null()) {
      o_[name] = json::array();
      return out;
    }
    bool ok = v->is_array();
    if (ok) {
      for (const auto& item : *v) {
        if (!item.is_string())
          ok = false;
        else
          out.push_back(item.get<std::string>());
      }
    }
    if (!ok) {
      Problem(name, "must be a list of strings.");
      return {};
    }
    return out;
  }
  // A property bag: values are strings (booleans and numbers are spelled as strings).
  void Properties(const std::string& name) {
    json* v = Find(name);
    if (v == nullptr || v->is_null()) {
      o_[name] = json::object();
      return;
    }
    if (!v->is_object()) {
      Problem(name, "must be an object.");
      return;
    }
    for (auto& [key, value] : v->items()) {
      if (value.is_boolean()) {
        value = value.get<bool>() ? "True" : "False";
      } else if (value.is_number()) {
        value = value.dump();
      } else if (!value.is_string() && !value.is_null()) {
        Problem(name + "." + key,
                "must be a string (sensitive property values are not supported).");
      }
    }
  }
  json& Array(const std::string& name) {
    json* v = Find(name);
    if (v == nullptr || v->is_null()) {
      o_[name] = json::array();
      return o_[name];
    }
    if (!v->is_array()) {
      Problem(name, "must be a list.");
      *v = json::array();
    }
    return *v;
  }
  const std::string& place() const { return place_; }

 private:
  json& o_;
  std::string place_;
  std::vector<std::string>& problems_;
};

void NormalizePackage(json& p, const std::string& place, std::vector<std::string>& problems) {
  Fields f(p, place, problems);
  f.Id();
  f.String("Name", false);
  f.String("PackageId", true);
  f.NullableString("FeedId");
  f.Enum("AcquisitionLocation", kAcquisitionLocations);
  f.Properties("Properties");
}

void NormalizeAction(json& a, const std::string& place, const std::string& step_name,
                     std::vector<std::string>& problems, ProcessReferences& refs) {
  Fields f(a, place, problems);
  a.erase("Links");
  f.Id();
  std::string name = f.String("Name", false);
  if (name.empty()) a["Name"] = name = step_name;  // a step's one action is named like it
  std::string slug = f.String("Slug", false);
  if (slug.empty()) a["Slug"] = Slugify(name);
  std::string type = f.String("ActionType", true);
  if (!type.empty()) {
    bool known = false;
    for (const auto& t : kActionTypes) known = known || t == type;
    if (!known) {
      f.Problem("ActionType", "'" + type +
                                  "' is not supported (supported: Octopus.Script, "
                                  "Octopus.TentaclePackage, Octopus.Manual).");
    }
  }
  f.Bool("IsDisabled");
  f.Bool("IsRequired");
  f.Enum("Condition", kActionConditions);
  f.NullableString("WorkerPoolId");
  f.NullableString("Notes");
  json* container = f.Find("Container");
  if (container == nullptr || container->is_null()) {
    a["Container"] = {{"Image", nullptr}, {"FeedId", nullptr}};
  } else if (!container->is_object()) {
    f.Problem("Container", "must be an object.");
  }
  for (const auto& e : f.StringList("Environments")) refs.environments.insert(e);
  for (const auto& e : f.StringList("ExcludedEnvironments")) refs.environments.insert(e);
  for (const auto& c : f.StringList("Channels")) refs.channels.insert(c);
  f.StringList("TenantTags");
  json& packages = f.Array("Packages");
  for (size_t i = 0; i < packages.size(); ++i) {
    const std::string p_place = place + ".Packages[" + std::to_string(i) + "]";
    if (!packages[i].is_object()) {
      problems.push_back(p_place + " must be an object.");
      continue;
    }
    NormalizePackage(packages[i], p_place, problems);
  }
  f.Properties("Properties");
}

void NormalizeStep(json& s, const std::string& place, std::vector<std::string>& problems,
                   ProcessReferences& refs) {
  Fields f(s, place, problems);
  s.erase("Links");
  f.Id();
  std::string name = f.String("Name", true);
  std::string slug = f.String("Slug", false);
  if (slug.empty()) s["Slug"] = Slugify(name);
  f.Properties("Properties");
  // Older clients name the step's run-condition expression after the action; keep one key.
  json& props = s["Properties"];
  if (props.is_object() && props.contains("Octopus.Action.ConditionVariableExpression") &&
      !props.contains("Octopus.Step.ConditionVariableExpression")) {
    props["Octopus.Step.ConditionVariableExpression"] =
        props["Octopus.Action.ConditionVariableExpression"];
    props.erase("Octopus.Action.ConditionVariableExpression");
  }
  f.Enum("Condition", kStepConditions);
  f.Enum("StartTrigger", kStartTriggers);
  f.Enum("PackageRequirement", kPackageRequirements);
  json& actions = f.Array("Actions");
  if (actions.empty()) f.Problem("Actions", "must have at least one action.");
  for (size_t i = 0; i < actions.size(); ++i) {
    const std::string a_place = place + ".Actions[" + std::to_string(i) + "]";
    if (!actions[i].is_object()) {
      problems.push_back(a_place + " must be an object.");
      continue;
    }
    NormalizeAction(actions[i], a_place, name, problems, refs);
  }
}

}  // namespace

json NormalizeSteps(const json& steps, std::vector<std::string>& problems,
                    ProcessReferences& refs) {
  json out = steps.is_null() ? json::array() : steps;
  if (!out.is_array()) {
    problems.push_back("Steps must be a list.");
    return json::array();
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string place = "Steps[" + std::to_string(i) + "]";
    if (!out[i].is_object()) {
      problems.push_back(place + " must be an object.");
      continue;
    }
    NormalizeStep(out[i], place, problems, refs);
  }
  // Names and ids identify steps and actions (releases select packages by step and action name).
  std::map<std::string, int> step_names, action_names, ids;
  for (const auto& s : out) {
    if (!s.is_object()) continue;
    if (s.value("Name", "") != "" && step_names[core::ToLower(s.value("Name", ""))]++ == 1) {
      problems.push_back("Step names must be unique: '" + s.value("Name", "") +
                         "' is used more than once.");
    }
    if (s["Id"].is_string() && ids[s["Id"].get<std::string>()]++ == 1) {
      problems.push_back("The id '" + s["Id"].get<std::string>() + "' is used more than once.");
    }
    if (!s.contains("Actions") || !s["Actions"].is_array()) continue;
    for (const auto& a : s["Actions"]) {
      if (!a.is_object()) continue;
      if (a.value("Name", "") != "" && action_names[core::ToLower(a.value("Name", ""))]++ == 1) {
        problems.push_back("Action names must be unique: '" + a.value("Name", "") +
                           "' is used more than once.");
      }
      if (a["Id"].is_string() && ids[a["Id"].get<std::string>()]++ == 1) {
        problems.push_back("The id '" + a["Id"].get<std::string>() + "' is used more than once.");
      }
    }
  }
  return out;
}

json ProcessJson(const repo::ProcessRow& p) {
  const std::string base = "/api/" + p.space_id;
  const bool runbook = p.kind == repo::kRunbookProcess;
  const std::string self = base + (runbook ? "/runbookProcesses/" : "/deploymentprocesses/") + p.id;
  json steps = p.steps;
  for (auto& s : steps) {
    if (!s.is_object() || !s.contains("Actions")) continue;
    for (auto& a : s["Actions"]) {
      if (a.is_object()) a["Links"] = json::object();
    }
  }
  json j = {{"Id", p.id},
            {"SpaceId", p.space_id},
            {"Version", p.version},
            {"LastSnapshotId", p.last_snapshot_id ? json(*p.last_snapshot_id) : json(nullptr)},
            {"Steps", std::move(steps)}};
  if (runbook) {
    j["RunbookId"] = p.owner_id;
    j["Links"] = {{"Self", self}, {"Runbook", base + "/runbooks/" + p.owner_id}};
  } else {
    j["ProjectId"] = p.owner_id;
    j["Links"] = {
        {"Self", self},
        {"Project", base + "/projects/" + p.owner_id},
        {"Template", base + "/deploymentprocesses/" + p.id + "/template{?channel,releaseId}"}};
  }
  return j;
}

}  // namespace cuttle::model
