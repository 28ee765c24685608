#include "agents/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "agentwire/wire.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "model/machine.h"
#include "repo/events.h"
#include "repo/machines.h"
#include "repo/spaces.h"
#include "storage/storage.h"
#include "tasks/artifacts.h"

namespace cuttle::agents {

namespace {

using nlohmann::json;

// An error as the agent is answered: a fenced write is 410 Gone (the agent stops reporting the
// command); everything else as the API maps it.
http::Response Answer(const Error& e) {
  if (e.code() == ErrorCode::kLostOwnership) return http::Response::Error(410, e.message());
  return http::Response::FromError(e);
}

// A refusal about a command carries, beside Octopus's {ErrorMessage, Errors}, the state the
// command was found in ("CommandState") and, when the message names one, its "Epoch": the agent
// reads these rather than the message (docs/agent.md, "Refusals").
http::Response Answer(const CommandError& e) {
  if (!e.state) return Answer(e.error);
  const int status =
      e.error.code() == ErrorCode::kLostOwnership ? 410 : http::Response::StatusFor(e.error.code());
  json body = {{"ErrorMessage", e.error.message()},
               {"Errors", e.error.details()},
               {"CommandState", *e.state}};
  if (e.epoch) body["Epoch"] = *e.epoch;
  return http::Response::Json(status, body);
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<int64_t> EpochOf(const http::Request& req) {
  auto h = req.Header(agentwire::kEpochHeader);
  auto epoch = h ? ParseInt(core::Trim(*h)) : std::nullopt;
  if (!epoch) {
    return Fail(Error::InvalidArgument(
        fmt::format("The {} header must be the command's epoch.", agentwire::kEpochHeader)));
  }
  return *epoch;
}

// A string list field of the registration; problems recorded.
std::vector<std::string> Strings(const json& body, const char* name,
                                 std::vector<std::string>& problems) {
  std::vector<std::string> out;
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) {
    problems.push_back(fmt::format("The {} field must be a list of strings.", name));
    return out;
  }
  for (const auto& v : *it) {
    if (!v.is_string()) {
      problems.push_back(fmt::format("The {} field must be a list of strings.", name));
      return {};
    }
    std::string t(core::Trim(v.get<std::string>()));
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

std::optional<std::string> OptionalString(const json& body, const char* name,
                                          std::vector<std::string>& problems) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    problems.push_back(fmt::format("The {} field must be a string.", name));
    return std::nullopt;
  }
  std::string t(core::Trim(it->get<std::string>()));
  if (t.empty()) return std::nullopt;
  return t;
}

// The space's environments named by id, else by name (case-insensitively), as their ids.
Result<std::vector<std::string>> ResolveEnvironments(db::Database& db, const std::string& space,
                                                     const std::vector<std::string>& wanted) {
  CUTTLE_TRY(auto rows,
             db.Execute("SELECT id, name FROM environments WHERE space_id = $1", {space}));
  std::vector<std::string> ids, problems;
  for (const auto& w : wanted) {
    std::optional<std::string> found;
    for (const auto& r : rows.rows) {
      if (core::EqualsIgnoreCase(r.GetString(0), w)) found = r.GetString(0);
    }
    for (const auto& r : rows.rows) {
      if (!found && core::EqualsIgnoreCase(r.GetString(1), w)) found = r.GetString(0);
    }
    if (!found) {
      problems.push_back(fmt::format("The environment '{}' was not found in {}.", w, space));
    } else if (std::find(ids.begin(), ids.end(), *found) == ids.end()) {
      ids.push_back(*found);
    }
  }
  if (!problems.empty())
    return Fail(Error::Invalid("The agent could not be registered.", problems));
  return ids;
}

json RegistrationJson(const repo::MachineRow& m, const std::string& thumbprint) {
  return {{"MachineId", m.id},
          {"SpaceId", m.space_id},
          {"Name", m.name},
          {"Thumbprint", thumbprint},
          {"PollSeconds", agentwire::kPollSeconds},
          {"LeaseSeconds", agentwire::kLeaseSeconds},
          {"HeartbeatSeconds", agentwire::kHeartbeatSeconds}};
}

Result<void> Audit(db::Transaction& tx, const std::string& space, const Registrar& by,
                   const char* category, std::string message, const std::string& machine_id) {
  repo::EventRow e;
  e.space_id = space;
  e.category = category;
  e.message = std::move(message);
  e.user_id = by.user_id;
  e.username = by.username;
  e.related_document_ids = {machine_id};
  CUTTLE_TRY_VOID(repo::InsertEvent(tx, std::move(e)));
  return {};
}

}  // namespace

namespace {
HubOptions WithUploadSweep(HubOptions options, AgentService* service) {
  options.after_nonce_sweep = [service] { service->SweepUploads(); };
  return options;
}
}  // namespace

AgentService::AgentService(db::Database& db, const crypto::SecretBox& secrets,
                           feed::PackageStore& packages, HubOptions options)
    : db_(db),
      secrets_(secrets),
      packages_(packages),
      auth_(db, *options.clock),
      commands_(db, secrets, options.node_name),
      node_name_(options.node_name),
      hub_(db, commands_, auth_, WithUploadSweep(std::move(options), this)) {}

AgentService::~AgentService() { Stop(); }

void AgentService::Start() { hub_.Start(); }

void AgentService::Stop() { hub_.Stop(); }

Result<AgentIdentity> AgentService::Admit(const http::Request& req) {
  CUTTLE_TRY(auto agent, auth_.Authenticate(req));
  hub_.Touch(agent.machine_id);
  return agent;
}

// ---- registration -----------------------------------------------------------------------------

Result<Registration> AgentService::Register(const json& body, const std::string& default_space,
                                            const Registrar& by) {
  std::vector<std::string> problems;
  auto name = OptionalString(body, "Name", problems);
  if (!name) problems.push_back("The Name field is required.");
  const std::string space = OptionalString(body, "SpaceId", problems).value_or(default_space);
  auto environments = Strings(body, "Environments", problems);
  if (environments.empty()) problems.push_back("The Environments field needs at least one.");
  auto roles = Strings(body, "Roles", problems);
  if (roles.empty()) problems.push_back("The Roles field needs at least one role.");
  auto key_text = OptionalString(body, "PublicKey", problems);
  std::optional<std::string> key = key_text ? core::Base64Decode(*key_text) : std::nullopt;
  if (!key || key->size() != 32) {
    problems.push_back("The PublicKey field must be the base64 of a 32-byte Ed25519 key.");
  }
  auto version = OptionalString(body, "Version", problems);
  if (!problems.empty())
    return Fail(Error::Invalid("The agent could not be registered.", problems));
  CUTTLE_TRY(auto space_row, repo::FindSpace(db_, space));
  if (!space_row) {
    return Fail(Error::Invalid("The agent could not be registered.",
                               {fmt::format("The space '{}' was not found.", space)}));
  }
  CUTTLE_TRY(auto env_ids, ResolveEnvironments(db_, space_row->id, environments));
  const std::string public_key = core::Base64Encode(*key);
  const std::string thumbprint = agentwire::Thumbprint(*key);
  const db::Value version_value = version ? db::Value(*version) : db::Value(std::monostate{});

  CUTTLE_TRY(
      auto known,
      db_.Execute("SELECT machine_id, space_id FROM agents WHERE public_key = $1", {public_key}));
  if (!known.empty()) {
    const std::string id = known.front().GetString(0);
    CUTTLE_TRY(auto found, repo::FindMachine(db_, known.front().GetString(1), id));
    if (found) {
      repo::MachineRow m = std::move(*found);
      m.environment_ids = env_ids;
      m.roles = roles;
      CUTTLE_TRY(auto taken, db_.Execute("SELECT id FROM machines WHERE space_id = $1 AND "
                                         "lower(name) = lower($2) AND id <> $3",
                                         {m.space_id, *name, m.id}));
      if (taken.empty()) m.name = *name;
      CUTTLE_TRY_VOID(db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
        CUTTLE_TRY(bool updated, repo::UpdateMachine(tx, m));
        if (!updated) return Fail(Error::Conflict(fmt::format("{} was deleted meanwhile.", id)));
        CUTTLE_TRY_VOID(tx.Execute("UPDATE agents SET version = $2 WHERE machine_id = $1",
                                   {id, version_value}));
        return Audit(tx, m.space_id, by, "Modified",
                     fmt::format("Agent {} registered again.", m.name), id);
      }));
      return Registration{false, RegistrationJson(m, thumbprint)};
    }
    // An agents row without its machine (deleted underneath): registered anew below.
    CUTTLE_TRY_VOID(db_.Execute("DELETE FROM agents WHERE machine_id = $1", {id}));
  }

  repo::MachineRow m;
  CUTTLE_TRY_VOID(db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    repo::MachineRow attempt;  // the transaction may run again
    attempt.space_id = space_row->id;
    attempt.name = *name;
    attempt.communication_style = "TentacleActive";
    attempt.thumbprint = thumbprint;
    attempt.environment_ids = env_ids;
    attempt.roles = roles;
    attempt.doc["Endpoint"] = json::object();
    CUTTLE_TRY_VOID(repo::CompleteMachine(tx, attempt));
    CUTTLE_TRY(auto saved, repo::InsertMachine(tx, std::move(attempt)));
    saved.doc["Endpoint"]["Uri"] = "poll://" + core::ToLower(saved.id) + "/";
    CUTTLE_TRY_VOID(repo::UpdateMachine(tx, saved));
    CUTTLE_TRY_VOID(
        tx.Execute("INSERT INTO agents (machine_id, space_id, public_key, "
                   "registered_at, last_seen_at, version) VALUES ($1, $2, $3, "
                   "now_ms(), now_ms(), $4)",
                   {saved.id, saved.space_id, public_key, version_value}));
    CUTTLE_TRY_VOID(Audit(tx, saved.space_id, by, "Created",
                          fmt::format("Agent {} registered as a deployment target.", saved.name),
                          saved.id));
    m = std::move(saved);
    return {};
  }));
  return Registration{true, RegistrationJson(m, thumbprint)};
}

// ---- the signed routes ------------------------------------------------------------------------

http::Response AgentService::Poll(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  if (hub_.draining()) {
    http::Response r = http::Response::Error(503, "This node is draining; poll another node.");
    r.SetHeader("Retry-After", "1");
    return r;
  }
  int64_t wait = agentwire::kPollSeconds;
  if (auto w = req.Query("wait")) {
    auto parsed = ParseInt(*w);
    if (!parsed || *parsed < 0) {
      return http::Response::Error(400, "The wait parameter is a number of seconds.");
    }
    wait = std::min<int64_t>(*parsed, agentwire::kPollSeconds);
  }
  const uint64_t round = hub_.round();
  auto pending = commands_.TakeOffers(agent->machine_id);
  if (!pending) return Answer(pending.error());
  hub_.Deliverable(agent->machine_id, *pending);
  if (!pending->empty()) return PendingResponse(*pending);
  if (wait == 0) return http::Response::Json(204, {});
  auto deferred = std::make_shared<http::Deferred>();
  hub_.Hold(agent->machine_id, deferred, std::chrono::seconds(wait), round);
  return http::Response::Later(std::move(deferred));
}

http::Response AgentService::Claim(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  auto epoch = commands_.Claim(agent->machine_id, req.Param("id"));
  if (!epoch) return Answer(epoch.error());
  return http::Response::Json(200, {{"Epoch", *epoch},
                                    {"LeaseSeconds", agentwire::kLeaseSeconds},
                                    {"HeartbeatSeconds", agentwire::kHeartbeatSeconds}});
}

http::Response AgentService::PutLog(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  auto epoch = EpochOf(req);
  if (!epoch) return Answer(epoch.error());
  auto seq = ParseInt(req.Param("seq"));
  if (!seq) return http::Response::Error(400, "The chunk's sequence number must be a number.");
  const std::string& id = req.Param("id");
  auto put = commands_.PutChunk(agent->machine_id, id, *epoch, *seq, req.body);
  if (!put) return Answer(put.error());
  if (put->created) {
    if (auto r = db_.Notify(agentwire::kCommandChannel, id); !r) {
      CUTTLE_LOG_WARN("agents: NOTIFY for {} failed: {}", id, r.error().message());
    }
  }
  return http::Response::Json(put->created ? 201 : 200, {{"Cancel", put->cancel}});
}

http::Response AgentService::Heartbeat(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  auto epoch = EpochOf(req);
  if (!epoch) return Answer(epoch.error());
  auto cancel = commands_.Heartbeat(agent->machine_id, req.Param("id"), *epoch);
  if (!cancel) return Answer(cancel.error());
  return http::Response::Json(200, {{"Cancel", *cancel}});
}

http::Response AgentService::PutResult(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  auto epoch = EpochOf(req);
  if (!epoch) return Answer(epoch.error());
  auto body = core::ParseJson(req.body);
  if (!body) return http::Response::Error(400, "The result is not JSON.");
  auto result = agentwire::ResultFromJson(*body);
  if (!result) return Answer(result.error());
  const std::string& id = req.Param("id");
  auto put = commands_.PutResult(agent->machine_id, id, *epoch, *result);
  if (!put) return Answer(put.error());
  if (!put->missing.empty()) {
    return http::Response::Json(
        412, {{"ErrorMessage", fmt::format("{} chunk(s) of {} are missing; send them first.",
                                           put->missing.size(), id)},
              {"Errors", json::array()},
              {"MissingSeqs", put->missing}});
  }
  if (auto r = db_.Notify(agentwire::kCommandChannel, id); !r) {
    CUTTLE_LOG_WARN("agents: NOTIFY for {} failed: {}", id, r.error().message());
  }
  if (put->late) return http::Response::Json(200, {{"Late", true}});
  return http::Response::Json(200, json::object());
}

namespace {

struct UploadedArtifact {
  std::string sha256;
  std::string artifact_id;
};

Result<std::optional<UploadedArtifact>> FindUploaded(db::Database& db, const std::string& id,
                                                     int64_t n) {
  CUTTLE_TRY(auto rows, db.Execute("SELECT sha256, artifact_id FROM agent_command_artifacts WHERE "
                                   "command_id = $1 AND n = $2",
                                   {id, n}));
  if (rows.empty()) return std::optional<UploadedArtifact>();
  return std::optional<UploadedArtifact>(
      UploadedArtifact{rows.front().GetString(0), rows.front().GetString(1)});
}

// The answer to an upload whose number is taken: the same file again is a success.
http::Response AnswerUploaded(const UploadedArtifact& u, const std::string& sha,
                              const std::string& id, int64_t n) {
  if (u.sha256 == sha) return http::Response::Json(200, {{"ArtifactId", u.artifact_id}});
  return http::Response::Error(
      409, fmt::format("Artifact {} of {} is another file already ({}).", n, id, u.artifact_id));
}

}  // namespace

http::Response AgentService::PutArtifact(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  if (artifacts_ == nullptr) {
    return http::Response::Error(404, "This server does not collect artifacts from agents.");
  }
  auto epoch = EpochOf(req);
  if (!epoch) return Answer(epoch.error());
  auto n = ParseInt(req.Param("n"));
  if (!n || *n < 0) return http::Response::Error(400, "The artifact's number is 0 or more.");
  const std::string name = req.Query("name").value_or("");
  if (name.empty() || !storage::IsPlainFileName(name)) {
    return http::Response::Error(
        400,
        "The name parameter must be a plain file name (no '/', '\\', '..' or control "
        "characters).");
  }
  const std::string sha =
      core::ToLower(core::Trim(req.Header(agentwire::kSha256Header).value_or("")));
  if (req.Query("offset") || req.Query("size")) {
    return PutArtifactPiece(req, *agent, *epoch, *n, name, sha);
  }
  if (req.body.size() > std::min<uint64_t>(agentwire::kMaxArtifactBytes, max_artifact_bytes_)) {
    return http::Response::Error(
        413, fmt::format("An artifact from an agent is at most {} bytes.",
                         std::min<uint64_t>(agentwire::kMaxArtifactBytes, max_artifact_bytes_)));
  }
  if (sha != crypto::Sha256Hex(req.body)) {
    return http::Response::Error(
        400, fmt::format("The {} header must be the body's SHA-256.", agentwire::kSha256Header));
  }
  const std::string& id = req.Param("id");
  auto rows =
      db_.Execute("SELECT machine_id, space_id, task_id FROM agent_commands WHERE id = $1", {id});
  if (!rows) return Answer(rows.error());
  if (rows->empty() || rows->front().GetString(0) != agent->machine_id) {
    return http::Response::Error(404, fmt::format("The agent command {} was not found.", id));
  }
  const std::string space_id = rows->front().GetString(1);
  const std::optional<std::string> task_id = rows->front().GetOptionalString("task_id");
  auto uploaded = FindUploaded(db_, id, *n);
  if (!uploaded) return Answer(uploaded.error());
  if (*uploaded) return AnswerUploaded(**uploaded, sha, id, *n);
  if (!task_id) {
    return http::Response::Error(409,
                                 fmt::format("{} belongs to no task: it has no artifacts.", id));
  }
  bool raced = false;
  auto stored = artifacts_->Store(
      node_name_, space_id, *task_id, req.body, name,
      [&](db::Transaction& tx, const tasks::Artifact&) {
        return commands_.Fence(tx, agent->machine_id, id, *epoch);
      },
      [&](db::Transaction& tx, const tasks::Artifact& a) -> Result<void> {
        CUTTLE_TRY(auto ins, tx.Execute("INSERT INTO agent_command_artifacts (command_id, n, "
                                        "sha256, artifact_id, received_at) VALUES ($1, $2, $3, "
                                        "$4, now_ms()) ON CONFLICT (command_id, n) DO NOTHING",
                                        {id, *n, sha, a.id}));
        if (ins.affected == 0) {
          raced = true;
          return Fail(Error::Conflict("another upload of the same number won"));
        }
        return {};
      });
  if (!stored && raced) {
    auto again = FindUploaded(db_, id, *n);
    if (again && *again) return AnswerUploaded(**again, sha, id, *n);
  }
  if (!stored) return Answer(stored.error());
  return http::Response::Json(201, {{"ArtifactId", stored->id}});
}

namespace {
bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A partial upload's name in the store: the command, the number and the whole file's SHA-256.
std::string UploadKey(const std::string& id, int64_t n, const std::string& sha) {
  return fmt::format("{}.{}.{}", id, n, sha);
}

json Progress(uint64_t received, uint64_t total) {
  return {{"Received", received}, {"Size", total}};
}

// An agent command's space and task, when it is `machine_id`'s.
struct Owned {
  std::string space_id;
  std::optional<std::string> task_id;
};
Result<std::optional<Owned>> FindOwned(db::Database& db, const std::string& id,
                                       const std::string& machine_id) {
  CUTTLE_TRY(
      auto rows,
      db.Execute("SELECT machine_id, space_id, task_id FROM agent_commands WHERE id = $1", {id}));
  if (rows.empty() || rows.front().GetString(0) != machine_id) return std::optional<Owned>();
  return std::optional<Owned>(
      Owned{rows.front().GetString(1), rows.front().GetOptionalString("task_id")});
}
}  // namespace

http::Response AgentService::PutArtifactPiece(const http::Request& req, const AgentIdentity& agent,
                                              int64_t epoch, int64_t n, const std::string& name,
                                              const std::string& sha) {
  auto offset = ParseInt(req.Query("offset").value_or(""));
  auto total = ParseInt(req.Query("size").value_or(""));
  if (!offset || !total || *offset < 0 || *total <= 0) {
    return http::Response::Error(
        400,
        "The offset and size parameters of a piece must be numbers (offset 0 or more, size "
        "above 0).");
  }
  if (static_cast<uint64_t>(*total) > max_artifact_bytes_) {
    return http::Response::Error(
        413,
        fmt::format("An artifact from an agent is at most {} bytes (tasks.max_artifact_bytes); "
                    "this one is {}.",
                    max_artifact_bytes_, *total));
  }
  if (!IsSha256Hex(sha)) {
    return http::Response::Error(
        400, fmt::format("The {} header must be the whole file's SHA-256 (lower-case hex).",
                         agentwire::kSha256Header));
  }
  if (req.body.empty() ||
      static_cast<uint64_t>(*offset) + req.body.size() > static_cast<uint64_t>(*total)) {
    return http::Response::Error(
        400, fmt::format("A piece of {} bytes at offset {} is not inside a file of {} bytes.",
                         req.body.size(), *offset, *total));
  }
  const std::string& id = req.Param("id");
  auto owned = FindOwned(db_, id, agent.machine_id);
  if (!owned) return Answer(owned.error());
  if (!*owned)
    return http::Response::Error(404, fmt::format("The agent command {} was not found.", id));
  auto uploaded = FindUploaded(db_, id, n);
  if (!uploaded) return Answer(uploaded.error());
  if (*uploaded) return AnswerUploaded(**uploaded, sha, id, n);
  if (!(*owned)->task_id) {
    return http::Response::Error(409,
                                 fmt::format("{} belongs to no task: it has no artifacts.", id));
  }
  const std::string key = UploadKey(id, n, sha);
  // Each piece is fenced as a chunk is (and renews the lease); a fenced upload is abandoned.
  auto fenced = db_.InTransaction(
      [&](db::Transaction& tx) { return commands_.Fence(tx, agent.machine_id, id, epoch); });
  if (!fenced) {
    if (fenced.error().code() == ErrorCode::kLostOwnership) artifacts_->DiscardUpload(key);
    return Answer(fenced.error());
  }
  bool raced = false;
  std::optional<tasks::Artifact> stored;
  auto answer = artifacts_->PutPiece(
      {.key = key,
       .offset = static_cast<uint64_t>(*offset),
       .total = static_cast<uint64_t>(*total),
       .bytes = req.body},
      sha, node_name_, (*owned)->space_id, *(*owned)->task_id, name,
      [&](db::Transaction& tx, const tasks::Artifact&) {
        return commands_.Fence(tx, agent.machine_id, id, epoch);
      },
      [&](db::Transaction& tx, const tasks::Artifact& a) -> Result<void> {
        CUTTLE_TRY(auto ins, tx.Execute("INSERT INTO agent_command_artifacts (command_id, n, "
                                        "sha256, artifact_id, received_at) VALUES ($1, $2, $3, "
                                        "$4, now_ms()) ON CONFLICT (command_id, n) DO NOTHING",
                                        {id, n, sha, a.id}));
        if (ins.affected == 0) {
          raced = true;
          return Fail(Error::Conflict("another upload of the same number won"));
        }
        return {};
      },
      stored);
  if (!answer) {
    if (raced) {
      auto again = FindUploaded(db_, id, n);
      if (again && *again) return AnswerUploaded(**again, sha, id, n);
    }
    return Answer(answer.error());
  }
  using Kind = tasks::ArtifactStore::PieceAnswer::Kind;
  switch (answer->kind) {
    case Kind::kHeld:
      return http::Response::Json(200, Progress(answer->received, *total));
    case Kind::kComplete: {
      json body = Progress(answer->received, *total);
      body["ArtifactId"] = stored ? stored->id : "";
      return http::Response::Json(201, body);
    }
    case Kind::kGap:
      break;
  }
  // Another node may have completed it meanwhile (this piece waited for its lock).
  auto again = FindUploaded(db_, id, n);
  if (again && *again) return AnswerUploaded(**again, sha, id, n);
  json body = {{"ErrorMessage",
                fmt::format("The server holds {} bytes of artifact {} of {}, not the {} bytes "
                            "before this piece: send from offset {}.",
                            answer->received, n, id, *offset, answer->received)},
               {"Errors", json::array()}};
  body.update(Progress(answer->received, *total));
  return http::Response::Json(409, body);
}

http::Response AgentService::GetArtifact(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  if (artifacts_ == nullptr) {
    return http::Response::Error(404, "This server does not collect artifacts from agents.");
  }
  auto n = ParseInt(req.Param("n"));
  if (!n || *n < 0) return http::Response::Error(400, "The artifact's number is 0 or more.");
  auto total = ParseInt(req.Query("size").value_or(""));
  if (!total || *total <= 0) {
    return http::Response::Error(400, "The size parameter must be the file's size (above 0).");
  }
  const std::string sha =
      core::ToLower(core::Trim(req.Header(agentwire::kSha256Header).value_or("")));
  if (!IsSha256Hex(sha)) {
    return http::Response::Error(
        400, fmt::format("The {} header must be the whole file's SHA-256 (lower-case hex).",
                         agentwire::kSha256Header));
  }
  const std::string& id = req.Param("id");
  auto owned = FindOwned(db_, id, agent->machine_id);
  if (!owned) return Answer(owned.error());
  if (!*owned)
    return http::Response::Error(404, fmt::format("The agent command {} was not found.", id));
  auto uploaded = FindUploaded(db_, id, *n);
  if (!uploaded) return Answer(uploaded.error());
  if (*uploaded) {
    http::Response r = AnswerUploaded(**uploaded, sha, id, *n);
    if (r.status != 200) return r;
    json body = Progress(static_cast<uint64_t>(*total), *total);
    body["ArtifactId"] = (*uploaded)->artifact_id;
    return http::Response::Json(200, body);
  }
  uint64_t held = artifacts_->UploadReceived(UploadKey(id, *n, sha));
  if (held > static_cast<uint64_t>(*total)) held = 0;
  return http::Response::Json(200, Progress(held, *total));
}

void AgentService::SweepUploads() {
  if (artifacts_ == nullptr) return;
  for (const auto& key : artifacts_->PartialUploads()) {
    const std::string id = key.substr(0, key.find('.'));
    auto rows =
        db_.Execute("SELECT 1 FROM agent_commands WHERE id = $1 AND state = 'running'", {id});
    if (rows && rows->empty()) artifacts_->DiscardUpload(key);
  }
}

http::Response AgentService::GetPackage(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  const std::string& space = req.Param("spaceId");
  const std::string& package_id = req.Param("packageId");
  const std::string& version = req.Param("version");
  auto not_found = [&] {
    return http::Response::Error(
        404, fmt::format("The package {} {} was not found in {}.", package_id, version, space));
  };
  if (!core::EqualsIgnoreCase(space, agent->space_id)) return not_found();
  auto found = packages_.Find(agent->space_id, package_id, version);
  if (!found) return Answer(found.error());
  if (!*found) return not_found();
  const feed::Package& p = **found;
  const uint64_t size = static_cast<uint64_t>(p.size);
  http::Response r;
  r.status = 200;
  r.content_type = "application/octet-stream";
  r.SetHeader("Accept-Ranges", "bytes");
  r.SetHeader("ETag", "\"" + p.sha256 + "\"");
  uint64_t from = 0, to = size == 0 ? 0 : size - 1;
  bool partial = false;
  if (auto range = req.Header("Range"); range && range->starts_with("bytes=")) {
    std::string_view spec = std::string_view(*range).substr(6);
    size_t dash = spec.find('-');
    auto first = dash == std::string_view::npos ? std::nullopt : ParseInt(spec.substr(0, dash));
    std::string_view last_text = dash == std::string_view::npos ? "" : spec.substr(dash + 1);
    auto last = last_text.empty() ? std::optional<int64_t>() : ParseInt(last_text);
    // Only "bytes=N-" and "bytes=N-M" are honoured; any other form is answered whole (RFC 9110).
    if (first && *first >= 0 && (last_text.empty() || (last && *last >= *first))) {
      if (static_cast<uint64_t>(*first) >= size) {
        http::Response unsatisfiable =
            http::Response::Error(416, "The range starts past the end of the package.");
        unsatisfiable.SetHeader("Content-Range", fmt::format("bytes */{}", size));
        return unsatisfiable;
      }
      from = static_cast<uint64_t>(*first);
      if (last) to = std::min<uint64_t>(static_cast<uint64_t>(*last), size - 1);
      partial = true;
    }
  }
  if (partial) {
    r.status = 206;
    r.SetHeader("Content-Range", fmt::format("bytes {}-{}/{}", from, to, size));
  }
  const uint64_t length = size == 0 ? 0 : to - from + 1;
  if (length > 0) {
    r.file = http::FileBody{packages_.PathOf(p), from, length};
  }
  return r;
}

http::Response AgentService::GetMe(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  auto m = repo::FindMachine(db_, agent->space_id, agent->machine_id);
  if (!m) return Answer(m.error());
  if (!*m) return http::Response::Error(401, NotRegisteredMessage(agent->machine_id));
  return http::Response::Json(200, model::MachineJson(**m));
}

http::Response AgentService::DeleteMe(http::Request& req) {
  auto agent = Admit(req);
  if (!agent) return Answer(agent.error());
  auto deleted = db_.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(bool gone, repo::DeleteMachine(tx, agent->space_id, agent->machine_id));
    if (!gone) return {};
    return Audit(tx, agent->space_id, {agent->machine_id, agent->machine_id}, "Deleted",
                 fmt::format("Agent {} deregistered itself.", agent->machine_id),
                 agent->machine_id);
  });
  if (!deleted) return Answer(deleted.error());
  return http::Response::Json(200, json::object());
}

}  // namespace cuttle::agents
