// Service messages: the lines a step's script prints on stdout to talk to the server, in
// Octopus's syntax (reference-octopus-scripts.md): `##octopus[<name> key='<base64>' ...]`, every
// attribute value base64 of its UTF-8 text. The step runner (step_runner.h) acts on them; this
// file only reads and writes their text.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/variables.h"

namespace cuttle::engine {

// The messages the step runner acts on, by name.
namespace service_message {
inline constexpr std::string_view kSetVariable = "setVariable";
inline constexpr std::string_view kCreateArtifact = "createArtifact";
inline constexpr std::string_view kResultMessage = "resultMessage";
inline constexpr std::string_view kProgress = "progress";
inline constexpr std::string_view kMask = "mask";
}  // namespace service_message

// One parsed line, its attribute values decoded. Attribute names compare case-insensitively, as
// Octopus reads them.
struct ServiceMessage {
  std::string name;
  std::map<std::string, std::string, NameLess> attributes;

  // The attribute's value, or nullopt when the message has no such attribute.
  std::optional<std::string> Get(std::string_view key) const;
};

// nullopt if the line is not a service message: it must be the whole line (spaces around it
// aside), `##octopus[` then a name then `]`, with well-formed `key='value'` pairs between. A
// value that is not valid base64 is kept as written.
std::optional<ServiceMessage> ParseServiceMessage(std::string_view line);

// The line for a message (no newline), each value base64-encoded; attributes in the order given.
std::string FormatServiceMessage(
    std::string_view name, const std::vector<std::pair<std::string, std::string>>& attributes);

}  // namespace cuttle::engine
