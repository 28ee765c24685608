// Logging: spdlog behind one call site so the format (timestamp, level, node) is set in one place.
// Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace cuttle::core {

// Sets the process-wide logger: lines go to stderr as
// "2026-11-27T02:41:25.123Z info [node-a] message". Call once at startup.
void InitLogging(const std::string& node_name, bool verbose = false);

}  // namespace cuttle::core

#define CUTTLE_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define CUTTLE_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define CUTTLE_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
#define CUTTLE_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
