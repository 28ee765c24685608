// The detached runner (docs/agent.md, "The agent"): `cuttle-agent exec --home H --command ID`
// runs one command from its journal folder — engine::RunAction, its masked lines appended to
// spool.jsonl, its outcome written to result.json — in a session of its own, re-parented to init
// by a double fork, so that killing or restarting the agent (even kill -9) leaves the script
// running. It holds an flock on runner.lock while it lives; the agent probes that lock to learn
// whether the runner is gone.
#pragma once

#include <cstdint>
#include <string>

#include "agent/journal.h"
#include "agentwire/wire.h"
#include "core/error.h"

namespace cuttle::agent {

// What should_stop answers once the command was canceled (the cancel file appeared).
inline constexpr std::string_view kCanceledReason = "The step was canceled";
inline constexpr std::string_view kLostTrackMessage =
    "the agent lost track of the step; it was not run again";

// Starts the runner for `command_id` (its command.json must be written) from the binary
// `self_exe`; returns the runner's pid once it holds runner.lock. Thread-safe.
Result<int> SpawnRunner(const std::string& self_exe, const std::string& home,
                        const std::string& command_id);

// `cuttle-agent exec`: detaches (fork, setsid, fork) unless `foreground`, reports its pid on
// `report_fd` (if >= 0) once it holds the lock, runs the command and exits. Returns the exit
// status for the process that called it.
int ExecRunner(const std::string& home, const std::string& command_id, int report_fd,
               bool foreground);

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
