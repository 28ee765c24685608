// Structured configuration variables (reference-octopus-deployment-model.md §4.7): a variable
// whose name is the path of a node in a JSON or YAML file replaces that node's value. A path is
// the node's keys joined with ':' (array/sequence positions as zero-based numbers), e.g.
// `Logging:LogLevel:Default` or `Servers:1:Port`; names compare case-insensitively. Only nodes
// that exist are replaced; nothing is added. Names that start with "Octopus" are ignored unless
// they start with "Octopus:". A variable naming an object/array replaces the whole subtree.
//
// JSON: the value keeps the node's type where it can (a number stays a number if the value
// parses as one, a boolean stays a boolean for "true"/"false", an object/array takes the value
// parsed as JSON, or stays untouched with a warning if it does not parse), else it becomes a
// string. The file is written back indented by two spaces with its dominant line ending; comments
// are dropped and numbers are re-printed (as Octopus does).
// YAML: the file's own text is kept; only the replaced nodes' text changes. A replaced scalar
// keeps its quoting where the value allows it (plain, then single-, then double-quoted); a block
// scalar (| or >) becomes double-quoted; a replaced mapping/sequence is written in flow style
// ({a: 1}, [x, y]) from the value parsed as YAML, or as a double-quoted string if it does not
// parse. Comments, anchors, tags and layout elsewhere survive.
// Pure functions (files only in ReplaceStructuredVariablesInFile); thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cuttle::engine {

// The value of the variable `name` (already evaluated), or nullopt when it is not set. Lookups
// are case-insensitive, as the variable dictionary's are.
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct StructuredReplacement {
  std::string text;                   // the new content
  int replaced = 0;                   // nodes whose value changed hands
  std::vector<std::string> warnings;  // values that could not be applied
};

// Errors are kInvalidArgument when `text` is not JSON / YAML (the message says where).
Result<StructuredReplacement> ReplaceJsonVariables(std::string_view text,
                                                   const VariableLookup& lookup);
Result<StructuredReplacement> ReplaceYamlVariables(std::string_view text,
                                                   const VariableLookup& lookup);

enum class StructuredFormat { kJson, kYaml };

struct StructuredFileResult {
  StructuredFormat format = StructuredFormat::kJson;
  int replaced = 0;
  std::vector<std::string> warnings;
};

// Replaces in the file at `path`, choosing the format as Calamari does: `json_only` (the
// Octopus.Action.StructuredConfigurationFallbackFlag) or a ".json" name means JSON only; ".yml"
// and ".yaml" try JSON, then YAML; any other name tries JSON, then YAML. (XML and Java properties
// files are not supported: a ".xml" or ".properties" file is tried as JSON only.) The file keeps
// its encoding; a failure of the last format tried is the error.
Result<StructuredFileResult> ReplaceStructuredVariablesInFile(const std::string& path,
                                                              const VariableLookup& lookup,
                                                              bool json_only);

}  // namespace cuttle::engine
