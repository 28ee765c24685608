// The detached runner (docs/agent.md, "The agent"): `cuttle-agent exec --home H --command ID`
// runs one command from its journal folder — engine::RunAction, its masked lines appended to
// spool.jsonl, its outcome written to result.json — in a session of its own, re-parented to init
// by a double fork, so that killing or restarting the agent (even kill -9) leaves the script
// running. It holds an flock on runner.lock while it lives; the agent probes that lock to learn
// whether the runner is gone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/journal.h"
#include "agentwire/wire.h"
#include "core/clock.h"
#include "core/error.h"
#include "engine/log_category.h"

namespace cuttle::agent {

// What should_stop answers once the command was canceled (the cancel file appeared).
inline constexpr std::string_view kCanceledReason = "The step was canceled";
inline constexpr std::string_view kLostTrackMessage =
    "the agent lost track of the step; it was not run again";

// `cuttle-agent run --max-spool-bytes`'s default: 1 GiB.
inline constexpr uint64_t kDefaultMaxSpoolBytes = uint64_t{1} << 30;

// The runner's side of spool.jsonl: one write(2) per line (O_APPEND), so the agent never reads
// half a line but at the very end of a spool being written. The spool is capped (docs/agent.md,
// "The spool's cap"): its backlog is its size less the end of the last chunk the server accepted
// (state.json's AckedSeq in chunks.jsonl, read again at most every kRecheck while over the cap).
// A line that would take the backlog past `max_bytes` is not written but counted; once a line
// fits again, and at Finish, one Warning line says how many were dropped. Nothing here blocks
// or stops the script. Used by one thread.
class SpoolWriter {
 public:
  static constexpr std::chrono::milliseconds kRecheck{250};

  SpoolWriter(const CommandJournal& journal, uint64_t max_bytes,
              const core::Clock& clock = core::SystemClock::Instance());
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  void Line(engine::LogCategory c, std::string_view text);
  // Says what was dropped, if anything is still unsaid; the runner calls it as the step ends.
  void Finish();

  uint64_t dropped_lines() const { return dropped_lines_; }

 private:
  void Refresh();
  void Write(const std::string& encoded);
  void SayDropped();

  std::string root_;
  std::string command_id_;
  uint64_t max_bytes_;
  const core::Clock& clock_;
  int fd_;
  uint64_t size_ = 0;       // bytes in the spool
  uint64_t acked_end_ = 0;  // the end of the last chunk the server accepted, as last read
  std::chrono::steady_clock::time_point next_refresh_{};
  uint64_t dropped_lines_ = 0;  // since the last warning
  uint64_t dropped_bytes_ = 0;  // their text's bytes
};

// Starts the runner for `command_id` (its command.json must be written) from the binary
// `self_exe`; returns the runner's pid once it holds runner.lock. Thread-safe.
Result<int> SpawnRunner(const std::string& self_exe, const std::string& home,
                        const std::string& command_id,
                        uint64_t max_spool_bytes = kDefaultMaxSpoolBytes);

// `cuttle-agent exec`: detaches (fork, setsid, fork) unless `foreground`, reports its pid on
// `report_fd` (if >= 0) once it holds the lock, runs the command and exits. Returns the exit
// status for the process that called it.
int ExecRunner(const std::string& home, const std::string& command_id, int report_fd,
               bool foreground, uint64_t max_spool_bytes = kDefaultMaxSpoolBytes);

// Parses a --max-spool-bytes value: a positive number of bytes, optionally followed by K, M or G
// (KiB, MiB, GiB). kInvalidArgument, naming the flag, otherwise.
Result<uint64_t> ParseByteSize(std::string_view text, std::string_view flag);

// True while a runner holds the journal's runner.lock.
bool RunnerAlive(const CommandJournal& journal);
// /proc/<pid>/stat's start time (clock ticks after boot); 0 when there is no such process.
uint64_t ProcessStartTime(int pid);
// Sends `sig` to every process in session `sid` (/proc/<pid>/stat's session field): the runner, its
// script, and whatever the script started in process groups of its own. Processes that left the
// session (setsid) are out of reach. Refuses sid <= 1 and the caller's own session. Returns how
// many processes were signalled.
int KillSession(int sid, int sig);
// The cache path a package command's file is read from: <home>/packages/<sha256>.
std::string PackagePath(const std::string& home, const agentwire::PackageInfo& p);
// Facts a health command reports: host name, OS, architecture, agent version, free disk.
nlohmann::json HealthFacts(const std::string& home);

}  // namespace cuttle::agent
