// Authentication of the agent's signed requests (docs/agent.md, "Identity and authentication"):
// the CuttleAgent header, the clock skew, the agent's row (read on every request, so a deleted
// machine's agent is refused at its next request), the Ed25519 signature and the nonce, which is
// inserted into agent_nonces so a replayed request is refused on every node.
//
// Thread-safe: state is in the database.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "db/database.h"
#include "http/http.h"

namespace cuttle::agents {

// Who a signed request came from.
struct AgentIdentity {
  std::string machine_id;
  std::string space_id;
  std::string public_key;  // 32 raw bytes
};

// The message of a refusal for an agent that has no agents row (never registered, deregistered,
// or its machine was deleted): the agent exits on it (docs/agent.md).
std::string NotRegisteredMessage(const std::string& machine_id);

class Authenticator {
 public:
  // `clock` is the node's clock the signed time is compared with.
  Authenticator(db::Database& db, core::Clock& clock) : db_(db), clock_(clock) {}

  // The request's agent, or kUnauthenticated with a one-line message for every refusal:
  // no or malformed header, time off by more than kClockSkewSeconds, not registered, bad
  // signature, replayed nonce. Database failures pass through.
  Result<AgentIdentity> Authenticate(const http::Request& req) const;

  // Deletes the nonces past their expiry; returns how many.
  Result<int64_t> SweepNonces();

 private:
  db::Database& db_;
  core::Clock& clock_;
};

}  // namespace cuttle::agents
