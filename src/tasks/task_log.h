// Task logs in shared storage (DESIGN.md §3.3): one file per task under the task-log root,
// appended only by the node executing the task and readable by any node, from any byte offset,
// while the task runs. A task that finishes before its first lines are due on storage (a Noop, a
// script that exits at once) gets no file: its log is recorded in its row with its result
// (docs/design-notes.md, "Short task logs live in the task row"); ReadTaskLog reads either.
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
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "engine/log_category.h"

namespace cuttle::tasks {

// The step runner (engine/) defines the levels; the task log names and writes them.
using LogCategory = engine::LogCategory;
const char* CategoryName(LogCategory c);

struct LogElement {
  std::string occurred_at;  // ISO 8601 as written
  std::string category;
  std::string message;
};

// The log file of a task: "<root>/<task id lower-cased>.log". The id is validated by the caller
// (ServerTasks-N), never raw user input.
std::string TaskLogPath(const std::string& root, const std::string& task_id);
// The folder of a deployment task's per-unit logs beside it: "<root>/<task id lower-cased>.units"
// (deploy::UnitLogPath names the files).
std::string TaskUnitLogDir(const std::string& root, const std::string& task_id);

class TaskLogWriter {
 public:
  // Lines wait in memory at most this long before they are written to the file; callers that run
  // for longer call FlushIfDue at least every 100 ms, so any line is on shared storage within
  // 200 ms (DESIGN.md §3.3).
  static constexpr core::Millis kFlushDelay{100};
  // A log held in memory past this size is written to the file at once.
  static constexpr size_t kMaxHeldBytes = 16 * 1024;

  // `may_write` is asked before every write: it returns false once the node has fenced itself or
  // lost the task, and from then on nothing more is written (a hung node that wakes up must not
  // add to a log another node now owns).
  TaskLogWriter(std::string path, std::function<bool()> may_write,
                const core::Clock& clock = core::SystemClock::Instance());
  ~TaskLogWriter();

  // Appends lines (split on '\n') at `category`. Until the file exists they are held in memory;
  // once it does (see FlushIfDue), every append is written at once.
  Result<void> Append(LogCategory category, std::string_view text);
  // Writes held lines to the file once the oldest has waited kFlushDelay.
  Result<void> FlushIfDue();
  // Writes held lines to the file now (creating it).
  Result<void> Flush();
  // The whole log, for recording with the task's result, when it never reached a file (it stays
  // held, so a Flush can still write it if recording fails); nullopt when the log is in a file,
  // this writer's or one an earlier claim of the task left (anything held is flushed there).
  Result<std::optional<std::string>> TextForResult();
  bool has_warnings_or_errors() const;
  // True once a line was dropped because `may_write` said no: the log is incomplete, and the task
  // must not be recorded as if it had run normally.
  bool refused() const;

 private:
  Result<void> FlushLocked();

  std::string path_;
  std::function<bool()> may_write_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  // State below is protected by mu_.
  int fd_ = -1;
  std::string held_;  // lines not yet in the file (all of them until the file exists)
  std::chrono::steady_clock::time_point held_since_;
  bool warned_ = false;
  bool refused_ = false;
};

// Appends one line from a node that does not own the task (the reaper's closing line).
Result<void> AppendLine(const std::string& path, LogCategory category, std::string_view text);

// Bytes from `offset` (at most `max_bytes`); empty past the end. A missing file reads as empty.
Result<std::string> ReadLog(const std::string& path, uint64_t offset, uint64_t max_bytes);
// A task's whole log wherever it is: the text recorded in its row if any, else its file.
Result<std::string> ReadTaskLog(const std::string& path, const std::optional<std::string>& text,
                                uint64_t max_bytes);
uint64_t LogSize(const std::string& path);
std::vector<LogElement> ParseLog(std::string_view text);

// True when a line of `text` is at Warning, Error or Fatal, the categories that make a finished
// task SuccessWithWarning. A line's category is what ParseLog makes of it.
bool HasWarningLine(std::string_view text);

// Remembers how far each log file was scanned for warning lines, so a log that only grows is read
// once however often its status is asked: the portal polls a running task's step tree every
// second, and a 100,000-line log is 12 MB. Thread-safe. A file that shrank or was replaced (another
// inode) is scanned again from its start; a partial last line waits for its newline.
class WarningScanCache {
 public:
  Result<bool> HasWarnings(const std::string& path);

 private:
  struct Entry {
    uint64_t inode = 0;
    uint64_t scanned = 0;  // bytes up to the last newline seen
    bool found = false;
  };
  // Past this many files, the cache starts over (a node serves a few running tasks at a time).
  static constexpr size_t kMaxEntries = 4096;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace cuttle::tasks
