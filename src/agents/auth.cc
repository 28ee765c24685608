#include "agents/auth.h"

#include <fmt/format.h>

#include "agentwire/wire.h"
#include "core/strings.h"

namespace cuttle::agents {

std::string NotRegisteredMessage(const std::string& machine_id) {
  return fmt::format("The agent {} is not registered with this server.", machine_id);
}

Result<AgentIdentity> Authenticator::Authenticate(const http::Request& req) const {
  auto header = req.Header("Authorization");
  if (!header) {
    return Fail(Error::Unauthenticated("The request has no CuttleAgent Authorization header."));
  }
  CUTTLE_TRY(auto auth, agentwire::ParseAuthorization(*header));
  const int64_t now = core::ToUnixMillis(clock_.Now());
  const int64_t skew = auth.unix_ms > now ? auth.unix_ms - now : now - auth.unix_ms;
  if (skew > int64_t{agentwire::kClockSkewSeconds} * 1000) {
    return Fail(Error::Unauthenticated(fmt::format(
        "The request's time is {} s from the server's clock (at most {} s is accepted); check the "
        "agent machine's clock.",
        skew / 1000, agentwire::kClockSkewSeconds)));
  }
  CUTTLE_TRY(auto rows, db_.Execute("SELECT space_id, public_key FROM agents WHERE machine_id = $1",
                                    {auth.machine_id}));
  if (rows.empty()) {
    return Fail(Error::Unauthenticated(NotRegisteredMessage(auth.machine_id)));
  }
  AgentIdentity agent;
  agent.machine_id = auth.machine_id;
  agent.space_id = rows.front().GetString(0);
  auto key = core::Base64Decode(rows.front().GetString(1));
  if (!key || !agentwire::Verify(*key, auth, req.method, req.target, req.body)) {
    return Fail(Error::Unauthenticated(
        "The request's signature does not verify with the agent's registered key."));
  }
  agent.public_key = std::move(*key);
  // After the signature, so only the agent itself can fill the table. A nonce outlives the
  // accepted skew on both sides (kNonceSeconds > 2 * kClockSkewSeconds), so a request replayed
  // after its nonce was swept is refused for its time.
  CUTTLE_TRY(auto inserted,
             db_.Execute("INSERT INTO agent_nonces (machine_id, nonce, expires_at) VALUES ($1, $2, "
                         "now_ms() + $3) ON CONFLICT DO NOTHING",
                         {auth.machine_id, auth.nonce, int64_t{agentwire::kNonceSeconds} * 1000}));
  if (inserted.affected == 0) {
    return Fail(Error::Unauthenticated(
        "The request was received before (its nonce was used already); it is not accepted twice."));
  }
  return agent;
}

Result<int64_t> Authenticator::SweepNonces() {
  CUTTLE_TRY(auto deleted, db_.Execute("DELETE FROM agent_nonces WHERE expires_at < now_ms()"));
  return deleted.affected;
}

}  // namespace cuttle::agents
