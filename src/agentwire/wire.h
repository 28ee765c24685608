// The agent protocol's wire format (docs/agent.md), shared by the server (src/agents/, the
// engine's AgentTarget) and the agent (src/agent/): request signing with Ed25519 keys (libsodium),
// the command envelope, log chunk lines and the result. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "engine/log_category.h"
#include "engine/step_runner.h"
#include "engine/variables.h"

namespace cuttle::agentwire {

inline constexpr std::string_view kApiPrefix = "/api/agent/v1";
inline constexpr std::string_view kAuthScheme = "CuttleAgent";
inline constexpr std::string_view kEpochHeader = "Cuttle-Epoch";
// NOTIFY channels: work for some agent appeared or a command was cancel-requested (held polls
// re-check); a command got a chunk or a result (the owner's AgentTarget re-reads).
inline constexpr const char* kAgentChannel = "cuttle_agent";
inline constexpr const char* kCommandChannel = "cuttle_agent_cmd";

inline constexpr int kPollSeconds = 25;          // longest hold of a poll
inline constexpr int kOfferSeconds = 15;         // an offer not claimed by then is offered again
inline constexpr int kLeaseSeconds = 45;         // a running command not heard from is lost
inline constexpr int kHeartbeatSeconds = 10;     // the agent renews at least this often
inline constexpr int kClaimTimeoutSeconds = 60;  // a command not claimed by then expires
inline constexpr int kClockSkewSeconds = 120;    // signed time must be within this of the server
inline constexpr int kNonceSeconds = 300;        // nonces are remembered this long
inline constexpr size_t kMaxChunkBytes = 1024 * 1024;
// An artifact an agent uploads (PUT /commands/{id}/artifacts/{n}) is at most this long: the body
// is read whole before its signature is checked. Its SHA-256 (lower-case hex) is this header.
inline constexpr size_t kMaxArtifactBytes = 16 * 1024 * 1024;
inline constexpr std::string_view kSha256Header = "Cuttle-Sha256";
// A larger file goes in pieces (docs/agent.md, "Uploads in pieces"), each at most this long by
// default (`run --artifact-piece-bytes`, at most kMaxArtifactBytes). The agent stages files up
// to kMaxStagedArtifactBytes; the node's tasks.max_artifact_bytes decides (413).
inline constexpr uint64_t kDefaultArtifactPieceBytes = 4 * 1024 * 1024;
inline constexpr uint64_t kMaxStagedArtifactBytes = uint64_t{64} << 30;

// ---- keys and signatures ----------------------------------------------------------------------

struct KeyPair {
  std::string public_key;  // 32 raw bytes
  std::string secret_key;  // 64 raw bytes (libsodium's Ed25519 secret key)
};
KeyPair GenerateKeyPair();
// Upper-case hex of the first 20 bytes of SHA-256 of the raw public key.
std::string Thumbprint(std::string_view public_key);

// The bytes a request's signature covers (docs/agent.md, "Identity and authentication").
std::string SigningString(std::string_view method, std::string_view target, int64_t unix_ms,
                          std::string_view nonce, std::string_view body);
// "CuttleAgent <machine id>:<unix ms>:<nonce>:<base64 signature>" with a fresh random nonce.
std::string AuthorizationHeader(std::string_view machine_id, const KeyPair& key,
                                std::string_view method, std::string_view target, int64_t unix_ms,
                                std::string_view body);

struct ParsedAuthorization {
  std::string machine_id;
  int64_t unix_ms = 0;
  std::string nonce;      // 32 lower-case hex chars
  std::string signature;  // 64 raw bytes
};
// kUnauthenticated with a one-line message when the header is not of this shape.
Result<ParsedAuthorization> ParseAuthorization(std::string_view header);
// True when `signature` is `public_key`'s over SigningString(...).
bool Verify(std::string_view public_key, const ParsedAuthorization& auth, std::string_view method,
            std::string_view target, std::string_view body);

// ---- the envelope -----------------------------------------------------------------------------

enum class CommandKind { kScript, kPackage, kHealth };
std::string_view KindName(CommandKind kind);  // "script", "package", "health"
std::optional<CommandKind> ParseKind(std::string_view name);

struct PackageInfo {
  std::string space_id;
  std::string package_id;
  std::string version;
  std::string sha256;  // lower-case hex
  uint64_t size = 0;
  std::string file_name;
};

struct Envelope {
  std::string command_id;
  CommandKind kind = CommandKind::kScript;
  std::string task_id;
  std::string unit_key;
  int64_t attempt = 1;
  engine::ScriptSyntax syntax = engine::ScriptSyntax::kBash;
  std::string script_body;
  engine::VariableDictionary variables;  // already evaluated; sensitive ones flagged
  std::map<std::string, std::string> env;
  int64_t timeout_seconds = 3600;
  std::optional<PackageInfo> package;  // kPackage
};
nlohmann::json EnvelopeToJson(const Envelope& e);
// kInvalidArgument naming the first bad field.
Result<Envelope> EnvelopeFromJson(const nlohmann::json& j);

// ---- log chunks -------------------------------------------------------------------------------

struct LogLine {
  engine::LogCategory category = engine::LogCategory::kInfo;
  std::string text;
  int64_t unix_ms = 0;
};
std::string_view CategoryName(engine::LogCategory c);  // "Info", ... as the task log writes them
std::optional<engine::LogCategory> ParseCategory(std::string_view name);
// One JSON line with its '\n'.
std::string EncodeLine(const LogLine& line);
// A chunk's lines; kInvalidArgument if any line is not a log line.
Result<std::vector<LogLine>> DecodeChunk(std::string_view chunk);

// ---- the result -------------------------------------------------------------------------------

enum class ResultState { kSucceeded, kFailed, kCanceled, kUnknown };
std::string_view ResultStateName(ResultState s);  // "succeeded", "failed", "canceled", "unknown"
std::optional<ResultState> ParseResultState(std::string_view name);

struct CommandResult {
  ResultState state = ResultState::kSucceeded;
  int64_t last_seq = -1;
  engine::StepOutcome outcome;
  nlohmann::json facts = nlohmann::json::object();  // health commands
  std::string message;
};
nlohmann::json ResultToJson(const CommandResult& r);
Result<CommandResult> ResultFromJson(const nlohmann::json& j);

}  // namespace cuttle::agentwire
