// The server side of the agent protocol (docs/agent.md): everything under /api/agent/v1 but the
// route table (api/agent_api.cc). Each handler authenticates its request (auth.h) before anything
// else; registration is the one call made with an API key, which the API's gate checks.
//
// Thread-safe: handlers are called concurrently; state is in the database and the hub.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agents/auth.h"
#include "agents/commands.h"
#include "agents/poll_hub.h"
#include "core/clock.h"
#include "crypto/secret_box.h"
#include "db/database.h"
#include "feed/package_store.h"
#include "http/http.h"

namespace cuttle::tasks {
class ArtifactStore;
}

namespace cuttle::agents {

// Who registers an agent (the API key's user), for the audit event.
struct Registrar {
  std::string user_id;
  std::string username;
};

struct Registration {
  bool created = false;  // false: this public key was registered already
  nlohmann::json body;   // MachineId, SpaceId, Name, Thumbprint, PollSeconds...
};

class AgentService {
 public:
  // `options.clock` is also the clock signed times are checked against.
  AgentService(db::Database& db, const crypto::SecretBox& secrets, feed::PackageStore& packages,
               HubOptions options);
  ~AgentService();

  // Where uploaded artifacts go (PUT /commands/{id}/artifacts/{n}), with the node's limit
  // (tasks.max_artifact_bytes); without it uploads are refused (404).
  void SetArtifacts(tasks::ArtifactStore* store, uint64_t max_bytes) {
    artifacts_ = store;
    max_artifact_bytes_ = max_bytes;
  }

  void Start();  // the hub's thread
  void Stop();   // held polls answered 204 (call before the HTTP server's Shutdown)

  // POST /register's work: `body` as docs/agent.md says; `default_space` when it names none.
  // kInvalidArgument (with every problem), kAlreadyExists (the name is another machine's).
  Result<Registration> Register(const nlohmann::json& body, const std::string& default_space,
                                const Registrar& by);

  // The signed routes.
  http::Response Poll(http::Request& req);
  http::Response Claim(http::Request& req);
  http::Response PutLog(http::Request& req);
  http::Response Heartbeat(http::Request& req);
  http::Response PutResult(http::Request& req);
  http::Response PutArtifact(http::Request& req);
  http::Response GetArtifact(http::Request& req);  // a piecewise upload's state
  http::Response GetPackage(http::Request& req);
  http::Response GetMe(http::Request& req);
  http::Response DeleteMe(http::Request& req);

  // Removes the partial uploads (pieces) of commands no longer running; every node runs it once a
  // minute, after the nonce sweep.
  void SweepUploads();

  PollHub& hub() { return hub_; }
  Authenticator& authenticator() { return auth_; }

 private:
  // Authenticates and records liveness; the refusal as a response otherwise.
  Result<AgentIdentity> Admit(const http::Request& req);
  http::Response PutArtifactPiece(const http::Request& req, const AgentIdentity& agent,
                                  int64_t epoch, int64_t n, const std::string& name,
                                  const std::string& sha);

  db::Database& db_;
  const crypto::SecretBox& secrets_;
  feed::PackageStore& packages_;
  Authenticator auth_;
  CommandStore commands_;
  std::string node_name_;  // names this node's temporary upload files (SweepTemporaries)
  PollHub hub_;
  tasks::ArtifactStore* artifacts_ = nullptr;
  uint64_t max_artifact_bytes_ = 0;
};

}  // namespace cuttle::agents
