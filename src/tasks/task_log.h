// Task logs in shared storage (DESIGN.md §3.3): one file per task under the task-log root,
// appended only by the node executing the task and readable by any node, from any byte offset,
// while the task runs.
//
// Each line is "<ISO-8601 time> <Category padded to 9> | <message>", the shape of Octopus's raw
// log, so /raw needs no conversion and /details parses it back into log elements.
//
// TaskLogWriter is used by one task's threads under its own mutex; the reading functions are
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cuttle::tasks {

enum class LogCategory { kVerbose, kInfo, kHighlight, kWait, kWarning, kError, kFatal };
const char* CategoryName(LogCategory c);

struct LogElement {
  std::string occurred_at;  // ISO 8601 as written
  std::string category;
  std::string message;
};

// The log file of a task: "<root>/<task id lower-cased>.log". The id is validated by the caller
// (ServerTasks-N), never raw user input.
std::string TaskLogPath(const std::string& root, const std::string& task_id);

class TaskLogWriter {
 public:
  // `may_write` is asked before every write: it returns false once the node has fenced itself or
  // lost the task, and from then on nothing more is written (a hung node that wakes up must not
  // add to a log another node now owns).
  TaskLogWriter(std::string path, std::function<bool()> may_write);
  ~TaskLogWriter();

  // Appends lines (split on '\n') at `category`, written and flushed to the file at once.
  Result<void> Append(LogCategory category, std::string_view text);
  bool has_warnings_or_errors() const;

 private:
  std::string path_;
  std::function<bool()> may_write_;
  mutable std::mutex mu_;
  // State below is protected by mu_.
  int fd_ = -1;
  bool warned_ = false;
};

// Appends one line from a node that does not own the task (the reaper's closing line).
Result<void> AppendLine(const std::string& path, LogCategory category, std::string_view text);

// Bytes from `offset` (at most `max_bytes`); empty past the end. A missing file reads as empty.
Result<std::string> ReadLog(const std::string& path, uint64_t offset, uint64_t max_bytes);
uint64_t LogSize(const std::string& path);
std::vector<LogElement> ParseLog(std::string_view text);

}  // namespace cuttle::tasks
