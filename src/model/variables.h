// Variable sets and library variable sets (reference-octopus-deployment-model.md §2.8): the JSON
// shapes and the merge of a Variables[] array a client sent with the stored one.
//
// Sensitive values: a stored sensitive variable carries only "SealedValue" (crypto::SecretBox);
// VariableJson never emits it, and answers Value null with IsSensitive true. Clients send a
// sensitive variable back with Value null after reading it: MergeVariables then keeps the stored
// sealed value of the variable with the same Id.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "crypto/secret_box.h"
#include "repo/variable_sets.h"

namespace cuttle::model {

// The documents variables' scopes name, for the API to check they exist in the set's space.
struct VariableReferences {
  std::set<std::string> environments;
  std::set<std::string> machines;
  std::set<std::string> channels;
  std::set<std::string> actions;
  std::set<std::string> process_owners;
};

// The stored Variables[] for `sent` (what a client PUT), given the `stored` array: ids assigned
// (GUIDs) where blank, Name required, Type/IsSensitive made consistent, sensitive values sealed
// (or kept from `stored` when sent as null), Scope keys checked and spelled canonically
// (Environment, Role, Machine, Action, Channel, ProcessOwner, TenantTag). Problems are appended,
// named by place; scope references go to `refs`.
nlohmann::json MergeVariables(const nlohmann::json& sent, const nlohmann::json& stored,
                              const crypto::SecretBox& box, std::vector<std::string>& problems,
                              VariableReferences& refs);

// A stored variable as a client sees it: no SealedValue; a sensitive one has Value null.
nlohmann::json VariableJson(const nlohmann::json& stored);

// The plain value of a stored variable (opening a sensitive one), for the deployment engine and
// for release snapshots. Never log the result.
Result<std::string> VariableValue(const nlohmann::json& stored, const crypto::SecretBox& box);

// The variable set resource. `scope_values` is the ScopeValues object the API assembled.
nlohmann::json VariableSetJson(const repo::VariableSetRow& v, nlohmann::json scope_values);

nlohmann::json LibraryVariableSetJson(const repo::LibraryVariableSetRow& l);

}  // namespace cuttle::model
