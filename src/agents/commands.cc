#include "agents/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/json.h"
#include "core/log.h"
#include "crypto/crypto.h"

namespace cuttle::agents {

namespace {

constexpr int64_t kOfferMs = int64_t{agentwire::kOfferSeconds} * 1000;
constexpr int64_t kLeaseMs = int64_t{agentwire::kLeaseSeconds} * 1000;
// A 412 lists at most this many missing chunks; the agent sends them and asks again.
constexpr size_t kMaxMissing = 1000;

// The fence of every write of a running command: it must be this agent's, running, at this
// epoch. Renews the lease and (PostgreSQL) locks the row until the transaction ends, so the
// owner cannot declare the command lost halfway through the write.
constexpr const char* kFenced =
    "UPDATE agent_commands SET lease_expires_at = now_ms() + $4 WHERE id = $1 AND machine_id = $2 "
    "AND state = 'running' AND epoch = $3 RETURNING cancel_requested";

struct CommandRow {
  std::string machine_id;
  std::string state;
  int64_t epoch = 0;
  std::optional<std::string> result;
};

Result<std::optional<CommandRow>> ReadCommand(db::Transaction& tx, const std::string& id) {
  CUTTLE_TRY(auto rows, tx.Execute("SELECT machine_id, state, epoch, result FROM agent_commands "
                                   "WHERE id = $1",
                                   {id}));
  if (rows.empty()) return std::optional<CommandRow>();
  const auto& r = rows.front();
  return std::optional<CommandRow>(
      CommandRow{r.GetString(0), r.GetString(1), r.GetInt(2), r.GetOptionalString("result")});
}

Error NotFound(const std::string& id) { return Error::NotFound("agent command", id); }

// A transaction carries only an Error out; a refusal about the command is noted here too, with
// the state (and epoch) its answer carries beside the message.
class Refusal {
 public:
  void Reset() { noted_.reset(); }
  Error Note(Error e, std::string state, std::optional<int64_t> epoch = std::nullopt) {
    noted_.emplace(e, std::move(state), epoch);
    return e;
  }
  // The call's error: `e` with what was noted about it, if anything.
  CommandError Of(Error e) const {
    if (noted_ && noted_->error.code() == e.code() && noted_->error.message() == e.message()) {
      return *noted_;
    }
    return CommandError(std::move(e));
  }

 private:
  std::optional<CommandError> noted_;
};

Error Fenced(Refusal& refusal, const std::string& id, int64_t epoch, const CommandRow& row) {
  return refusal.Note(
      Error::LostOwnership(fmt::format("{} is {} at epoch {}; a write of epoch {} is refused.", id,
                                       row.state, row.epoch, epoch)),
      row.state, row.epoch);
}

bool IsFinal(std::string_view state) {
  return state != "queued" && state != "offered" && state != "running";
}

// Runs `fenced` when the command is this agent's, running at `epoch`; otherwise the error the
// caller answers (404 or fenced), unless `otherwise` handles the row itself. Both note their
// refusals in the Refusal they are given.
template <class T, class Fenced, class Otherwise>
CommandResult<T> WhenFenced(db::Database& db, const std::string& machine_id, const std::string& id,
                            int64_t epoch, Fenced fenced, Otherwise otherwise) {
  T out{};
  Refusal refusal;
  auto done = db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    refusal.Reset();
    CUTTLE_TRY(auto lock, tx.Execute(kFenced, {id, machine_id, epoch, kLeaseMs}));
    if (!lock.empty()) {
      CUTTLE_TRY(out, fenced(tx, lock.front().GetBool(0), refusal));
      return {};
    }
    CUTTLE_TRY(auto row, ReadCommand(tx, id));
    if (!row || row->machine_id != machine_id) return Fail(NotFound(id));
    CUTTLE_TRY(out, otherwise(tx, *row, refusal));
    return {};
  });
  if (!done) return std::unexpected(refusal.Of(std::move(done).error()));
  return out;
}

}  // namespace

Result<Pending> CommandStore::TakeOffers(const std::string& machine_id) {
  CUTTLE_TRY(auto rows,
             db_.Execute("SELECT id, kind, envelope, state FROM agent_commands WHERE machine_id = "
                         "$1 AND (state = 'queued' OR (state = 'offered' AND offer_expires_at <= "
                         "now_ms()) OR (state = 'running' AND cancel_requested)) ORDER BY "
                         "created_at, id",
                         {machine_id}));
  Pending p;
  for (const auto& r : rows.rows) {
    const std::string id = r.GetString(0);
    const std::string state = r.GetString(3);
    if (state == "running") {
      p.cancels.push_back(id);
      continue;
    }
    if (p.offers.size() >= kMaxOffers) continue;
    auto opened = secrets_.Open(r.GetString(2));
    if (!opened) {
      CUTTLE_LOG_ERROR("agent command {}: its envelope cannot be opened: {}", id,
                       opened.error().message());
      continue;
    }
    auto envelope = core::ParseJson(*opened);
    if (!envelope) {
      CUTTLE_LOG_ERROR("agent command {}: its envelope is not JSON", id);
      continue;
    }
    // The CAS: an offer another node made since the read (or a claim) makes this one a no-op.
    CUTTLE_TRY(auto moved,
               db_.Execute("UPDATE agent_commands SET state = 'offered', offer_expires_at = "
                           "now_ms() + $3, delivery_count = delivery_count + 1 WHERE id = $1 AND "
                           "state = $2 AND (offer_expires_at IS NULL OR offer_expires_at <= "
                           "now_ms())",
                           {id, state, kOfferMs}));
    if (moved.affected == 0) continue;
    p.offers.push_back({id, r.GetString(1), std::move(*envelope)});
  }
  return p;
}

Result<std::set<std::string>> CommandStore::MachinesWithWork() {
  // Each half matches a partial index of migration 0015 (agent_commands_pending, _active).
  CUTTLE_TRY(auto rows,
             db_.Execute("SELECT machine_id FROM agent_commands WHERE state IN ('queued', "
                         "'offered') AND (state = 'queued' OR offer_expires_at <= now_ms()) "
                         "UNION SELECT machine_id FROM agent_commands WHERE state = 'running' AND "
                         "cancel_requested",
                         {}));
  std::set<std::string> ids;
  for (const auto& r : rows.rows) ids.insert(r.GetString(0));
  return ids;
}

CommandResult<int64_t> CommandStore::Claim(const std::string& machine_id, const std::string& id) {
  int64_t epoch = 0;
  Refusal refusal;
  auto done = db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    refusal.Reset();
    CUTTLE_TRY(auto claimed,
               tx.Execute("UPDATE agent_commands SET state = 'running', epoch = epoch + 1, "
                          "claimed_at = now_ms(), lease_expires_at = now_ms() + $3, "
                          "offer_expires_at = NULL WHERE id = $1 AND machine_id = $2 AND state IN "
                          "('queued', 'offered') RETURNING epoch",
                          {id, machine_id, kLeaseMs}));
    if (!claimed.empty()) {
      epoch = claimed.front().GetInt(0);
      return {};
    }
    CUTTLE_TRY(auto row, ReadCommand(tx, id));
    if (!row || row->machine_id != machine_id) return Fail(NotFound(id));
    if (row->state == "running") {  // claimed before: its reply was lost, or the agent restarted
      CUTTLE_TRY_VOID(tx.Execute(kFenced, {id, machine_id, row->epoch, kLeaseMs}));
      epoch = row->epoch;
      return {};
    }
    return Fail(refusal.Note(
        Error::Conflict(fmt::format("{} is {}; it cannot be claimed.", id, row->state)),
        row->state));
  });
  if (!done) return std::unexpected(refusal.Of(std::move(done).error()));
  return epoch;
}

Result<void> CommandStore::Fence(db::Transaction& tx, const std::string& machine_id,
                                 const std::string& id, int64_t epoch) {
  CUTTLE_TRY(auto lock, tx.Execute(kFenced, {id, machine_id, epoch, kLeaseMs}));
  if (!lock.empty()) return {};
  CUTTLE_TRY(auto row, ReadCommand(tx, id));
  if (!row || row->machine_id != machine_id) return Fail(NotFound(id));
  Refusal unused;  // an artifact's refusal carries its message only
  return Fail(Fenced(unused, id, epoch, *row));
}

CommandResult<ChunkOutcome> CommandStore::PutChunk(const std::string& machine_id,
                                                   const std::string& id, int64_t epoch,
                                                   int64_t seq, const std::string& data) {
  if (seq < 0) return Fail(Error::InvalidArgument("A chunk's sequence number is 0 or more."));
  if (data.size() > agentwire::kMaxChunkBytes) {
    return Fail(Error::TooLarge("A chunk is at most 1 MiB."));
  }
  CUTTLE_TRY_VOID(agentwire::DecodeChunk(data));
  const std::string digest = crypto::Sha256Hex(data);
  return WhenFenced<ChunkOutcome>(
      db_, machine_id, id, epoch,
      [&](db::Transaction& tx, bool cancel, Refusal& refusal) -> Result<ChunkOutcome> {
        CUTTLE_TRY(auto inserted,
                   tx.Execute("INSERT INTO agent_command_output (command_id, seq, digest, data, "
                              "received_node, received_at) VALUES ($1, $2, $3, $4, $5, "
                              "now_ms()) ON CONFLICT (command_id, seq) DO NOTHING",
                              {id, seq, digest, data, node_name_}));
        if (inserted.affected == 0) {
          CUTTLE_TRY(auto had, tx.Execute("SELECT digest FROM agent_command_output WHERE "
                                          "command_id = $1 AND seq = $2",
                                          {id, seq}));
          if (had.empty() || had.front().GetString(0) != digest) {
            return Fail(refusal.Note(
                Error::Conflict(fmt::format("{} has a different chunk {} already.", id, seq)),
                "running"));
          }
        }
        return ChunkOutcome{inserted.affected > 0, cancel};
      },
      [&](db::Transaction&, const CommandRow& row, Refusal& refusal) -> Result<ChunkOutcome> {
        return Fail(Fenced(refusal, id, epoch, row));
      });
}

CommandResult<bool> CommandStore::Heartbeat(const std::string& machine_id, const std::string& id,
                                            int64_t epoch) {
  return WhenFenced<bool>(
      db_, machine_id, id, epoch,
      [](db::Transaction&, bool cancel, Refusal&) -> Result<bool> { return cancel; },
      [&](db::Transaction&, const CommandRow& row, Refusal& refusal) -> Result<bool> {
        return Fail(Fenced(refusal, id, epoch, row));
      });
}

CommandResult<ResultOutcome> CommandStore::PutResult(const std::string& machine_id,
                                                     const std::string& id, int64_t epoch,
                                                     const agentwire::CommandResult& result) {
  // Canonical, so an identical repeat compares equal whatever the agent's spelling.
  const std::string text = agentwire::ResultToJson(result).dump();
  const std::string state(agentwire::ResultStateName(result.state));
  return WhenFenced<ResultOutcome>(
      db_, machine_id, id, epoch,
      [&](db::Transaction& tx, bool, Refusal&) -> Result<ResultOutcome> {
        ResultOutcome out;
        if (result.last_seq >= 0) {
          CUTTLE_TRY(auto seqs, tx.Execute("SELECT seq FROM agent_command_output WHERE "
                                           "command_id = $1 AND seq <= $2 ORDER BY seq",
                                           {id, result.last_seq}));
          std::set<int64_t> have;
          for (const auto& r : seqs.rows) have.insert(r.GetInt(0));
          for (int64_t s = 0; s <= result.last_seq && out.missing.size() < kMaxMissing; ++s) {
            if (!have.contains(s)) out.missing.push_back(s);
          }
          if (!out.missing.empty()) return out;
        }
        CUTTLE_TRY(auto done,
                   tx.Execute("UPDATE agent_commands SET state = $3, finished_at = now_ms(), "
                              "result = $4, last_seq = $5, lease_expires_at = NULL WHERE id = $1 "
                              "AND state = 'running' AND epoch = $2",
                              {id, epoch, state, secrets_.Seal(text), result.last_seq}));
        if (done.affected != 1) {
          return Fail(Error::Internal(fmt::format("{} changed under its row lock", id)));
        }
        return out;
      },
      [&](db::Transaction& tx, const CommandRow& row, Refusal& refusal) -> Result<ResultOutcome> {
        if (row.epoch != epoch) return Fail(Fenced(refusal, id, epoch, row));
        if (row.state == "lost") {  // its lease ran out: kept for audit, changes nothing else
          CUTTLE_TRY_VOID(
              tx.Execute("UPDATE agent_commands SET late_result = $2 WHERE id = $1 "
                         "AND state = 'lost' AND late_result IS NULL",
                         {id, secrets_.Seal(text)}));
          return ResultOutcome{true, {}};
        }
        if (IsFinal(row.state) && row.result) {
          auto stored = secrets_.Open(*row.result);
          if (stored && *stored == text) return ResultOutcome{};  // an identical repeat
        }
        if (IsFinal(row.state)) {
          return Fail(refusal.Note(Error::Conflict(fmt::format(
                                       "{} is {} with a different result already.", id, row.state)),
                                   row.state));
        }
        return Fail(Fenced(refusal, id, epoch, row));
      });
}

}  // namespace cuttle::agents
