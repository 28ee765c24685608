// The agent side of agent_commands (docs/agent.md, "Command states"): offers, claims, chunks,
// heartbeats and results. Every transition is one conditional statement (`WHERE id = $1 AND
// state = ... [AND epoch = ...]`), so two nodes serving the same agent, or an agent and the
// command's owner, never both win. The writes of a running command are fenced on its epoch by
// one statement, kFenced below, which also renews the lease and locks the row for the rest of the
// write's transaction.
//
// Thread-safe: state is in the database.
#pragma once

#include <cstdint>
#include <expected>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agentwire/wire.h"
#include "core/error.h"
#include "crypto/secret_box.h"
#include "db/database.h"

namespace cuttle::agents {

struct Offer {
  std::string command_id;
  std::string kind;
  nlohmann::json envelope;
};

// What a poll answers: offers made now and the running commands to cancel.
struct Pending {
  std::vector<Offer> offers;
  std::vector<std::string> cancels;
  bool empty() const { return offers.empty() && cancels.empty(); }
};

struct ChunkOutcome {
  bool created = false;  // false: the same chunk was there already
  bool cancel = false;
};

struct ResultOutcome {
  bool late = false;             // the command was lost; kept in late_result only
  std::vector<int64_t> missing;  // non-empty: nothing recorded, send these first (412)
};

// Errors of the calls below: kNotFound (no such command, or another agent's), kConflict (claim
// of a final command; a different chunk or result already recorded), kLostOwnership (fenced: the
// epoch is not the command's or it is not running; nothing was written), kInvalidArgument.
// A refusal about the command (kConflict, kLostOwnership) also says the state the command was
// found in and, when the message names one, its epoch: the agent reads these fields of the answer
// (docs/agent.md, "Refusals"), never the message.
struct CommandError {
  CommandError(Error e) : error(std::move(e)) {}  // NOLINT(google-explicit-constructor): Fail()
  CommandError(Error e, std::string found_state, std::optional<int64_t> found_epoch)
      : error(std::move(e)), state(std::move(found_state)), epoch(found_epoch) {}

  Error error;
  std::optional<std::string> state;
  std::optional<int64_t> epoch;
};
template <class T>
using CommandResult = std::expected<T, CommandError>;

class CommandStore {
 public:
  static constexpr int kMaxOffers = 10;

  // `node_name` is recorded as the node that received each chunk.
  CommandStore(db::Database& db, const crypto::SecretBox& secrets, std::string node_name)
      : db_(db), secrets_(secrets), node_name_(std::move(node_name)) {}

  // Offers up to kMaxOffers of the agent's queued commands and offered ones whose offer expired
  // (queued|offered → offered, offer_expires_at = now + kOfferSeconds, one CAS each), and lists
  // its running commands with cancel_requested.
  Result<Pending> TakeOffers(const std::string& machine_id);

  // The agents that TakeOffers would give something now: one statement over the two partial
  // indexes, so a wake-up of the poll hub costs one query however many polls it holds (a query
  // per held agent was 2,000 statements a second for 2,000 idle agents).
  Result<std::set<std::string>> MachinesWithWork();

  // queued|offered → running with epoch + 1 and a lease; the current epoch of a command already
  // running for this agent.
  CommandResult<int64_t> Claim(const std::string& machine_id, const std::string& command_id);

  CommandResult<ChunkOutcome> PutChunk(const std::string& machine_id, const std::string& command_id,
                                       int64_t epoch, int64_t seq, const std::string& data);

  // Renews the lease; true when a cancel was requested.
  CommandResult<bool> Heartbeat(const std::string& machine_id, const std::string& command_id,
                                int64_t epoch);

  // The fence of a write that is not the store's own (an artifact's row): inside `tx`, the command
  // is this agent's and running at `epoch` (the lease renewed, the row locked), or kNotFound /
  // kLostOwnership as the other writes.
  Result<void> Fence(db::Transaction& tx, const std::string& machine_id,
                     const std::string& command_id, int64_t epoch);

  CommandResult<ResultOutcome> PutResult(const std::string& machine_id,
                                         const std::string& command_id, int64_t epoch,
                                         const agentwire::CommandResult& result);

 private:
  db::Database& db_;
  const crypto::SecretBox& secrets_;
  const std::string node_name_;
};

}  // namespace cuttle::agents
