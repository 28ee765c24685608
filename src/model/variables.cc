#include "model/variables.h"

#include <map>

#include "core/ids.h"
#include "core/strings.h"

namespace cuttle::model {

namespace {

using nlohmann::json;

const std::vector<std::string> kTypes = {"String",
                                         "Sensitive",
                                         "Certificate",
                                         "AmazonWebServicesAccount",
                                         "AzureAccount",
                                         "GoogleCloudAccount",
                                         "UsernamePasswordAccount",
                                         "GenericOidcAccount",
                                         "WorkerPool"};
const std::vector<std::string> kScopeKeys = {"Environment", "Role",         "Machine",  "Action",
                                             "Channel",     "ProcessOwner", "TenantTag"};

const json* FindKey(const json& o, std::string_view name) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (core::EqualsIgnoreCase(it.key(), name)) return &it.value();
  }
  return nullptr;
}

// The value of key `name` spelled in any case, moved to exactly `name`.
json Take(json& o, const std::string& name) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (core::EqualsIgnoreCase(it.key(), name)) {
      json v = std::move(it.value());
      o.erase(it);
      return v;
    }
  }
  return nullptr;
}

json MergeScope(json scope, const std::string& place, std::vector<std::string>& problems,
                VariableReferences& refs) {
  json out = json::object();
  if (scope.is_null()) return out;
  if (!scope.is_object()) {
    problems.push_back(place + ".Scope must be an object.");
    return out;
  }
  for (auto& [key, values] : scope.items()) {
    std::string canonical;
    for (const auto& k : kScopeKeys) {
      if (core::EqualsIgnoreCase(k, key)) canonical = k;
    }
    if (canonical.empty()) {
      problems.push_back(place + ".Scope." + key + " is not a scope (use Environment, Role, " +
                         "Machine, Action, Channel, ProcessOwner or TenantTag).");
      continue;
    }
    if (values.is_null()) continue;
    bool ok = values.is_array();
    std::vector<std::string> list;
    if (ok) {
      for (const auto& v : values) {
        if (!v.is_string())
          ok = false;
        else
          list.push_back(v.get<std::string>());
      }
    }
    if (!ok) {
      problems.push_back(place + ".Scope." + canonical + " must be a list of strings.");
      continue;
    }
    if (list.empty()) continue;
    std::set<std::string>* target = canonical == "Environment"    ? &refs.environments
                                    : canonical == "Machine"      ? &refs.machines
                                    : canonical == "Channel"      ? &refs.channels
                                    : canonical == "Action"       ? &refs.actions
                                    : canonical == "ProcessOwner" ? &refs.process_owners
                                                                  : nullptr;
    if (target) target->insert(list.begin(), list.end());
    out[canonical] = list;
  }
  return out;
}

}  // namespace

json MergeVariables(const json& sent, const json& stored, const crypto::SecretBox& box,
                    std::vector<std::string>& problems, VariableReferences& refs) {
  if (!sent.is_array()) {
    problems.push_back("Variables must be a list.");
    return json::array();
  }
  std::map<std::string, const json*> stored_by_id;
  if (stored.is_array()) {
    for (const auto& v : stored) {
      if (v.is_object() && v.contains("Id") && v["Id"].is_string()) {
        stored_by_id[v["Id"].get<std::string>()] = &v;
      }
    }
  }
  json out = json::array();
  std::set<std::string> ids;
  for (size_t i = 0; i < sent.size(); ++i) {
    const std::string place = "Variables[" + std::to_string(i) + "]";
    if (!sent[i].is_object()) {
      problems.push_back(place + " must be an object.");
      continue;
    }
    json v = sent[i];
    v.erase("Links");
    json id = Take(v, "Id");
    if (id.is_null() || (id.is_string() && id.get<std::string>().empty())) id = core::NewUuid();
    if (!id.is_string()) {
      problems.push_back(place + ".Id must be a string.");
      continue;
    }
    if (!ids.insert(id.get<std::string>()).second) {
      problems.push_back(place + ".Id '" + id.get<std::string>() + "' is used more than once.");
    }
    json name = Take(v, "Name");
    if (!name.is_string() || core::Trim(name.get<std::string>()).empty()) {
      problems.push_back(place + ".Name is required.");
      name = "";
    }
    json type = Take(v, "Type");
    std::string type_name = "String";
    if (type.is_string()) {
      bool known = false;
      for (const auto& t : kTypes) {
        if (core::EqualsIgnoreCase(t, type.get<std::string>())) {
          type_name = t;
          known = true;
        }
      }
      if (!known) problems.push_back(place + ".Type '" + type.get<std::string>() + "' is unknown.");
    } else if (!type.is_null()) {
      problems.push_back(place + ".Type must be a string.");
    }
    json is_sensitive = Take(v, "IsSensitive");
    const bool sensitive =
        type_name == "Sensitive" || (is_sensitive.is_boolean() && is_sensitive.get<bool>());
    if (sensitive) type_name = "Sensitive";
    json value = Take(v, "Value");
    v.erase("SealedValue");  // only the server writes it
    if (value.is_boolean()) value = value.get<bool>() ? "True" : "False";
    if (value.is_number()) value = value.dump();
    if (!value.is_null() && !value.is_string()) {
      problems.push_back(place + ".Value must be a string or null.");
      value = nullptr;
    }
    json scope = Take(v, "Scope");
    json description = Take(v, "Description");
    json is_editable = Take(v, "IsEditable");
    json prompt = Take(v, "Prompt");
    if (!prompt.is_null() && !prompt.is_object()) {
      problems.push_back(place + ".Prompt must be an object or null.");
    }

    v["Id"] = id;
    v["Name"] = name;
    v["Type"] = type_name;
    v["IsSensitive"] = sensitive;
    v["Description"] = description.is_string() ? description : json(nullptr);
    v["IsEditable"] = is_editable.is_boolean() ? is_editable.get<bool>() : true;
    v["Prompt"] = prompt.is_object() ? prompt : json(nullptr);
    v["Scope"] = MergeScope(std::move(scope), place, problems, refs);
    if (!sensitive) {
      v["Value"] = value;
    } else if (value.is_string()) {
      v["SealedValue"] = box.Seal(value.get<std::string>());
    } else {
      // Null: the client echoes what it read; keep the stored secret of this variable.
      auto it = stored_by_id.find(id.get<std::string>());
      if (it != stored_by_id.end() && it->second->contains("SealedValue")) {
        v["SealedValue"] = (*it->second)["SealedValue"];
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

json VariableJson(const json& stored) {
  json v = stored;
  v.erase("SealedValue");
  if (v.value("IsSensitive", false)) v["Value"] = nullptr;
  return v;
}

Result<std::string> VariableValue(const json& stored, const crypto::SecretBox& box) {
  if (stored.value("IsSensitive", false)) {
    if (!stored.contains("SealedValue") || !stored["SealedValue"].is_string()) return "";
    return box.Open(stored["SealedValue"].get<std::string>());
  }
  const json* value = FindKey(stored, "Value");
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

json VariableSetJson(const repo::VariableSetRow& v, json scope_values) {
  json variables = json::array();
  for (const auto& s : v.variables) variables.push_back(VariableJson(s));
  return {{"Id", v.id},
          {"OwnerId", v.owner_id},
          {"SpaceId", v.space_id},
          {"Version", v.version},
          {"Variables", std::move(variables)},
          {"ScopeValues", std::move(scope_values)},
          {"Links", {{"Self", "/api/" + v.space_id + "/variables/" + v.id}}}};
}

json LibraryVariableSetJson(const repo::LibraryVariableSetRow& l) {
  const std::string base = "/api/" + l.space_id;
  return {{"Id", l.id},
          {"SpaceId", l.space_id},
          {"Name", l.name},
          {"Description", l.doc.value("Description", "")},
          {"VariableSetId", l.variable_set_id},
          {"ContentType", l.content_type},
          {"Templates", l.doc.value("Templates", json::array())},
          {"Links",
           {{"Self", base + "/libraryvariablesets/" + l.id},
            {"Variables", base + "/variables/" + l.variable_set_id}}}};
}

}  // namespace cuttle::model
