#include "agents/poll_hub.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "agentwire/wire.h"
#include "core/log.h"
#include "repo/document.h"

namespace cuttle::agents {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Statements over a list of agents take at most this many at a time.
constexpr size_t kBatch = 500;

db::Params Batch(const std::vector<std::string>& ids, size_t from) {
  db::Params p;
  for (size_t i = from; i < ids.size() && i < from + kBatch; ++i) p.emplace_back(ids[i]);
  return p;
}

}  // namespace

http::Response PendingResponse(const Pending& p) {
  nlohmann::json offers = nlohmann::json::array();
  for (const auto& o : p.offers) {
    offers.push_back({{"CommandId", o.command_id}, {"Kind", o.kind}, {"Envelope", o.envelope}});
  }
  return http::Response::Json(200, {{"Offers", std::move(offers)}, {"Cancels", p.cancels}});
}

PollHub::PollHub(db::Database& db, CommandStore& commands, Authenticator& auth, HubOptions options)
    : db_(db), commands_(commands), auth_(auth), options_(std::move(options)) {}

PollHub::~PollHub() { Stop(); }

void PollHub::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void PollHub::Stop() {
  if (stopping_.exchange(true)) return;
  AnswerAll(204);  // first: the agents move to another node while this thread winds down
  (void)db_.Notify(agentwire::kAgentChannel);
  if (thread_.joinable()) thread_.join();
  if (auto r = FlushLiveness(); !r) {
    CUTTLE_LOG_WARN("agents: writing liveness at shutdown failed: {}", r.error().message());
  }
}

bool PollHub::draining() const {
  return stopping_.load() || (options_.draining && options_.draining());
}

size_t PollHub::held() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

void PollHub::Hold(const std::string& machine_id, std::shared_ptr<http::Deferred> deferred,
                   std::chrono::milliseconds wait, uint64_t seen_round) {
  std::shared_ptr<http::Deferred> replaced;
  {
    std::lock_guard lock(mu_);
    if (!stopping_.load()) {
      Held& h = held_[machine_id];
      replaced = std::move(h.deferred);
      h.deferred = deferred;
      h.deadline = options_.clock->SteadyNow() + wait;
      deferred.reset();
    }
  }
  if (replaced) replaced->Complete(http::Response::Json(204, {}));
  if (deferred) {
    deferred->Complete(http::Response::Json(204, {}));  // stopping
    return;
  }
  if (rounds_.load() != seen_round) {
    // This node's own wake-up only: PostgreSQL's NotifyLocally, SQLite's Notify (local anyway).
    if (db_.dialect() == db::Dialect::kPostgres) {
      db_.NotifyLocally(agentwire::kAgentChannel);
    } else {
      (void)db_.Notify(agentwire::kAgentChannel);
    }
  }
}

void PollHub::Touch(const std::string& machine_id) {
  std::lock_guard lock(mu_);
  seen_.insert(machine_id);
}

void PollHub::Deliverable(const std::string& machine_id, Pending& p) {
  const auto now = options_.clock->SteadyNow();
  std::lock_guard lock(mu_);
  auto& given = cancels_[machine_id];
  std::erase_if(given, [&](const auto& kv) { return now - kv.second >= kCancelRepeat; });
  std::erase_if(p.cancels, [&](const std::string& id) { return given.contains(id); });
  for (const auto& id : p.cancels) given.emplace(id, now);
  if (given.empty()) cancels_.erase(machine_id);
}

void PollHub::AnswerAll(int status) {
  std::map<std::string, Held> all;
  {
    std::lock_guard lock(mu_);
    all.swap(held_);
  }
  for (auto& [id, h] : all) h.deferred->Complete(http::Response::Json(status, {}));
}

void PollHub::Forget(const std::string& machine_id, const http::Deferred* deferred) {
  std::lock_guard lock(mu_);
  auto it = held_.find(machine_id);
  if (it != held_.end() && it->second.deferred.get() == deferred) held_.erase(it);
}

void PollHub::CheckHeld(bool sweep) {
  if (draining()) {
    AnswerAll(204);
    return;
  }
  std::vector<std::pair<std::string, Held>> snapshot;
  {
    std::lock_guard lock(mu_);
    ++rounds_;  // under mu_: a Hold after this snapshot sees the new round
    snapshot.assign(held_.begin(), held_.end());
  }
  if (snapshot.empty()) return;
  std::set<std::string> registered;
  if (sweep) {
    std::vector<std::string> ids;
    for (const auto& [id, h] : snapshot) ids.push_back(id);
    for (size_t from = 0; from < ids.size(); from += kBatch) {
      db::Params p = Batch(ids, from);
      auto rows = db_.Execute("SELECT machine_id FROM agents WHERE machine_id IN (" +
                                  repo::Placeholders(1, p.size()) + ")",
                              p);
      if (!rows) {
        CUTTLE_LOG_WARN("agents: revocation check failed: {}", rows.error().message());
        sweep = false;  // unknown: revoke nobody this round
        break;
      }
      for (const auto& r : rows->rows) registered.insert(r.GetString(0));
    }
  }
  auto with_work = commands_.MachinesWithWork();
  if (!with_work) {
    CUTTLE_LOG_WARN("agents: looking for agents' work failed: {}", with_work.error().message());
  }
  const auto now = options_.clock->SteadyNow();
  for (auto& [id, h] : snapshot) {
    if (h.deferred->done()) {  // answered elsewhere (replaced, or the server shut down)
      Forget(id, h.deferred.get());
      continue;
    }
    if (sweep && !registered.contains(id)) {
      h.deferred->Complete(http::Response::Error(401, NotRegisteredMessage(id)));
      Forget(id, h.deferred.get());
      continue;
    }
    Result<Pending> pending = Pending{};
    if (with_work && with_work->contains(id)) pending = commands_.TakeOffers(id);
    if (pending) Deliverable(id, *pending);
    if (!pending) {
      CUTTLE_LOG_WARN("agents: offers for {} failed: {}", id, pending.error().message());
    } else if (!pending->empty()) {
      if (!h.deferred->Complete(PendingResponse(*pending)) && !pending->offers.empty()) {
        // Its connection went away meanwhile: the offers expire and are made again.
        CUTTLE_LOG_INFO("agents: {} offer(s) to {} were not delivered", pending->offers.size(), id);
      }
      Forget(id, h.deferred.get());
      continue;
    }
    if (now >= h.deadline) {
      h.deferred->Complete(http::Response::Json(204, {}));
      Forget(id, h.deferred.get());
    }
  }
}

Result<void> PollHub::FlushLiveness() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.assign(seen_.begin(), seen_.end());
    seen_.clear();
  }
  for (size_t from = 0; from < ids.size(); from += kBatch) {
    db::Params p = Batch(ids, from);
    const std::string in = repo::Placeholders(2, p.size());
    db::Params with_node = p;
    with_node.insert(with_node.begin(), options_.node_name);
    CUTTLE_TRY_VOID(
        db_.Execute("UPDATE agents SET last_seen_at = now_ms(), last_seen_node = $1 "
                    "WHERE machine_id IN (" +
                        in + ")",
                    with_node));
    CUTTLE_TRY_VOID(
        db_.Execute("UPDATE machines SET health_status = 'Healthy' WHERE health_status = "
                    "'Unavailable' AND communication_style = 'TentacleActive' AND id IN (" +
                        repo::Placeholders(1, p.size()) + ")",
                    p));
  }
  return {};
}

Result<int64_t> PollHub::MarkUnavailable() {
  CUTTLE_TRY(auto marked,
             db_.Execute("UPDATE machines SET health_status = 'Unavailable' WHERE "
                         "communication_style = 'TentacleActive' AND health_status <> "
                         "'Unavailable' AND id IN (SELECT machine_id FROM agents WHERE "
                         "COALESCE(last_seen_at, registered_at) < now_ms() - $1)",
                         {static_cast<int64_t>(options_.unavailable_after.count())}));
  return marked.affected;
}

void PollHub::Loop() {
  auto last_sweep = SteadyClock::now();
  auto last_flush = last_sweep;
  auto last_nonces = last_sweep;
  while (!stopping_.load()) {
    // Until the next sweep is due, so a stream of notifications does not put it off.
    auto until_sweep = std::chrono::duration_cast<std::chrono::milliseconds>(
        last_sweep + options_.sweep - SteadyClock::now());
    db_.WaitForNotification(agentwire::kAgentChannel,
                            std::max(until_sweep, std::chrono::milliseconds(1)));
    if (stopping_.load()) break;
    const auto now = SteadyClock::now();
    const bool sweep = now - last_sweep >= options_.sweep;
    if (sweep) last_sweep = now;
    CheckHeld(sweep);
    if (now - last_flush >= options_.liveness_flush) {
      last_flush = now;
      if (auto r = FlushLiveness(); !r) {
        CUTTLE_LOG_WARN("agents: writing liveness failed: {}", r.error().message());
      }
      auto marked = MarkUnavailable();
      if (!marked) {
        CUTTLE_LOG_WARN("agents: liveness sweep failed: {}", marked.error().message());
      } else if (*marked > 0) {
        CUTTLE_LOG_INFO("agents: {} agent(s) not heard from for {} s are Unavailable", *marked,
                        options_.unavailable_after.count() / 1000);
      }
    }
    if (now - last_nonces >= options_.nonce_sweep) {
      last_nonces = now;
      if (auto r = auth_.SweepNonces(); !r) {
        CUTTLE_LOG_WARN("agents: nonce sweep failed: {}", r.error().message());
      }
      if (options_.after_nonce_sweep) options_.after_nonce_sweep();
    }
  }
}

}  // namespace cuttle::agents
