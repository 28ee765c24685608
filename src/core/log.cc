#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace cuttle::core {

void InitLogging(const std::string& node_name, bool verbose) {
  auto logger = spdlog::stderr_logger_mt("cuttle");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l [" + node_name + "] %v",
                      spdlog::pattern_time_type::utc);
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace cuttle::core
