// `cuttle-agent run`: the agent's loop (docs/agent.md). One thread long-polls the server for
// offers and cancels; every command in hand has a CommandWorker thread that claims it, fetches
// its package, starts its detached runner, cuts the runner's spool into chunks, uploads them,
// heartbeats and sends the result — from the journal, so a restarted agent resumes where the last
// one stopped and never runs a command twice. Run() is called once, from one thread; Stop() from
// any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/home.h"
#include "agentwire/wire.h"
#include "core/clock.h"

namespace cuttle::agent {

inline constexpr int kExitNotRegistered = 3;

struct AgentOptions {
  std::string home;
  std::string self_exe;  // the binary the runner is started from (`exec`)
  AgentConfig config;
  agentwire::KeyPair key;
  std::chrono::hours prune_after{24};
  std::chrono::milliseconds cut_interval{250};
  uint64_t chunk_bytes = 256 * 1024;
  // The cap on each command's spool of output not yet sent (`run --max-spool-bytes`).
  uint64_t max_spool_bytes = uint64_t{1} << 30;
  // A staged artifact larger than this is uploaded in pieces of this size
  // (`run --artifact-piece-bytes`; docs/agent.md, "Uploads in pieces").
  uint64_t artifact_piece_bytes = agentwire::kDefaultArtifactPieceBytes;
};

class CommandWorker;

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  // Polls until Stop() or until the server says this agent is not registered; returns the exit
  // status (0, or kExitNotRegistered). Running scripts are left running either way.
  int Run();
  void Stop();

  // For the workers.
  const AgentOptions& options() const { return options_; }
  bool stopping() const { return stop_.load(); }
  void NotRegistered();
  // Sleeps `d` or until Stop().
  void Sleep(std::chrono::milliseconds d);

 private:
  void StartWorker(const std::string& id, const agentwire::Envelope* envelope);
  void HandlePoll(const nlohmann::json& body);
  void ReapWorkers();

  AgentOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> not_registered_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  std::map<std::string, std::shared_ptr<CommandWorker>> workers_;
};

}  // namespace cuttle::agent
