// The agent's home folder: agent.json (where it is registered, written by `register`) and
// agent.key (its Ed25519 secret key, base64, mode 0600, never sent anywhere). Functions are
// thread-safe.
#pragma once

#include <string>

#include "agentwire/wire.h"
#include "core/error.h"

namespace cuttle::agent {

struct AgentConfig {
  std::string server_url;
  std::string machine_id;
  std::string space_id;
  std::string name;
  std::string thumbprint;
  int poll_seconds = agentwire::kPollSeconds;
  int lease_seconds = agentwire::kLeaseSeconds;
  int heartbeat_seconds = agentwire::kHeartbeatSeconds;
};

// kNotFound (with a hint to run `register`) when there is no agent.json.
Result<AgentConfig> LoadConfig(const std::string& home);
Result<void> SaveConfig(const std::string& home, const AgentConfig& config);

// The key pair in <home>/agent.key; with `create`, a new one is generated and written (0600)
// when there is none. kNotFound without `create` when there is none.
Result<agentwire::KeyPair> LoadKey(const std::string& home, bool create);

std::string Base64(std::string_view bytes);

}  // namespace cuttle::agent
