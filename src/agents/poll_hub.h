// The long-poll hub (docs/agent.md, "GET /poll"): the agents' polls this node holds, each as an
// http::Deferred, so a held poll costs no thread. One hub thread wakes on NOTIFY cuttle_agent
// (any node queued or cancel-requested something) and at least every `sweep`, and each time runs
// one offers query per held agent; a poll is answered 200 with what it got, 204 when its wait is
// over, 401 when its agent was revoked (checked every sweep), and 204 at once when the node drains
// or stops, so the agent polls another node.
//
// The same thread writes liveness: the agents' last_seen_at in batches (every liveness_flush), and
// marks the machine of an agent not seen for `unavailable_after` HealthStatus "Unavailable" (and
// "Healthy" again when it is seen); and it sweeps expired nonces.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "agents/auth.h"
#include "agents/commands.h"
#include "core/clock.h"
#include "db/database.h"
#include "http/http.h"

namespace cuttle::agents {

struct HubOptions {
  std::string node_name;
  core::Clock* clock = &core::SystemClock::Instance();  // held polls' deadlines
  std::chrono::milliseconds sweep{1000};
  std::chrono::milliseconds liveness_flush{5000};
  std::chrono::milliseconds unavailable_after{60000};
  std::chrono::milliseconds nonce_sweep{60000};
  // True while the node drains or stops: held polls are answered 204, new ones refused.
  std::function<bool()> draining;
  // Called after each nonce sweep (the agent service's sweep of abandoned partial uploads).
  std::function<void()> after_nonce_sweep;
};

// The answer of a poll with something in it: {"Offers": [...], "Cancels": [...]}.
http::Response PendingResponse(const Pending& p);

class PollHub {
 public:
  PollHub(db::Database& db, CommandStore& commands, Authenticator& auth, HubOptions options);
  ~PollHub();
  PollHub(const PollHub&) = delete;
  PollHub& operator=(const PollHub&) = delete;

  void Start();
  // Answers every held poll 204, stops the thread and flushes liveness. Idempotent.
  void Stop();

  // The number of rounds (CheckHeld) begun so far. A poll reads it before its own offers query
  // and passes it to Hold.
  uint64_t round() const { return rounds_.load(); }
  // Holds a poll of `machine_id` for `wait`, answering through `deferred`. A newer poll of the
  // same agent replaces an older one, which is answered 204. When a round began after
  // `seen_round` (it may have missed a command the poll's own query was too early for), the
  // thread is woken for another at once, so no command waits for the sweep.
  void Hold(const std::string& machine_id, std::shared_ptr<http::Deferred> deferred,
            std::chrono::milliseconds wait, uint64_t seen_round);
  // Records that the agent was heard from (written at the next flush).
  void Touch(const std::string& machine_id);

  bool draining() const;
  size_t held() const;

  // Drops from `p` the cancels this node gave the agent within the last kCancelRepeat and records
  // the rest as given. A cancel stays in the database until the command's result arrives; were
  // every poll answered with it at once, the agent would poll in a tight loop while its script
  // winds down. (The heartbeat's and log's {"Cancel": true} repeat it anyway.)
  void Deliverable(const std::string& machine_id, Pending& p);
  static constexpr std::chrono::seconds kCancelRepeat{5};

  // One round of the thread: answers the held polls that have something, are over, or (when
  // `sweep`) whose agent was revoked.
  void CheckHeld(bool sweep);
  // Writes the pending last_seen_at (and brings Unavailable machines back).
  Result<void> FlushLiveness();
  // Marks the machines of agents not seen for unavailable_after "Unavailable"; returns how many.
  Result<int64_t> MarkUnavailable();

 private:
  struct Held {
    std::shared_ptr<http::Deferred> deferred;
    std::chrono::steady_clock::time_point deadline;
  };
  void Loop();
  void AnswerAll(int status);
  // Removes `machine_id`'s entry if it still holds `deferred`.
  void Forget(const std::string& machine_id, const http::Deferred* deferred);

  db::Database& db_;
  CommandStore& commands_;
  Authenticator& auth_;
  const HubOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> rounds_{0};
  std::thread thread_;

  mutable std::mutex mu_;
  // State below is protected by mu_.
  std::map<std::string, Held> held_;
  std::set<std::string> seen_;  // agents heard from since the last flush
  // Per agent: the cancels given to it and when.
  std::map<std::string, std::map<std::string, std::chrono::steady_clock::time_point>> cancels_;
  bool started_ = false;
};

}  // namespace cuttle::agents
