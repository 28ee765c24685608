// The level of one line of a step's log, in Octopus's vocabulary (Verbose, Info, Highlight, Wait,
// Warning, Error, Fatal). The step runner tags every line it hands over with one; the task log
// (tasks/task_log.h) writes it as the line's category. A plain enum; thread-safe.
#pragma once

namespace cuttle::engine {

enum class LogCategory { kVerbose, kInfo, kHighlight, kWait, kWarning, kError, kFatal };

}  // namespace cuttle::engine
