// Octopus-style identifiers: "<Collection>-<n>" (ServerTasks-12, Spaces-1) and API keys
// ("API-" + 26 or more upper-case letters and digits). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cuttle::core {

std::string MakeId(std::string_view collection, int64_t n);
// The number of "<collection>-<n>" (case-insensitive collection), or nullopt.
std::optional<int64_t> ParseId(std::string_view collection, std::string_view id);

bool IsApiKeyFormat(std::string_view key);
// A new random API key: "API-" + 30 characters from [A-Z0-9] (from a CSPRNG).
std::string NewApiKey();

// A random RFC 4122 version-4 UUID, lower-case.
std::string NewUuid();

}  // namespace cuttle::core
