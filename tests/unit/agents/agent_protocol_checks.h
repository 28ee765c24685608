// The agent protocol's server side (docs/agent.md) through its HTTP interface: a real node's
// router (api::BuildRouter with an AgentService) on an http::Server at port 0, requests signed
// with agentwire::AuthorizationHeader as the agent signs them. Included by agents_test.cc
// (SQLite) and agents_pgtest.cc (PostgreSQL), which define NewProtocolDatabase.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "agents/service.h"
#include "agentwire/wire.h"
#include "api/api.h"
#include "auth/auth.h"
#include "cluster/node_registry.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "engine/package_fixtures.h"
#include "feed/package_store.h"
#include "repo/bootstrap.h"
#include "repo/environments.h"
#include "tasks/artifacts.h"
#include "tasks/task_queue.h"
#include "testing/fake_clock.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace cuttle::agents {

std::unique_ptr<db::Database> NewProtocolDatabase(const testing::TempDir& dir);

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

using Reply = testing::HttpReply;

// One request on a fresh connection; status 0 when the exchange failed.
Reply Send(uint16_t port, const std::string& method, const std::string& target,
           const std::string& body, const testing::HttpHeaders& extra) {
  return testing::HttpSend(port, method, target, body, extra);
}

struct Agent {
  std::string id;
  agentwire::KeyPair key;
};

class AgentProtocolTest : public ::testing::Test {
 protected:
  AgentProtocolTest()
      : db_(NewProtocolDatabase(dir_)),
        registry_(*db_, clock_, {.node_name = "n1", .heartbeat_thread = false}),
        queue_(*db_),
        artifacts_(*db_, dir_.path().string() + "/artifacts"),
        packages_(*db_, dir_.path().string() + "/packages", 64 << 20),
        secrets_(crypto::MasterKey::Generate()),
        ctx_{*db_, registry_, options_, "install", queue_, artifacts_, packages_, secrets_} {}

  void SetUp() override {
    api_key_ = core::NewApiKey();
    ASSERT_TRUE(repo::Bootstrap(*db_, auth::HashApiKey(api_key_)));
    for (const char* name : {"Dev", "Prod"}) {
      ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> Result<void> {
        repo::EnvironmentRow e;
        e.space_id = "Spaces-1";
        e.name = name;
        CUTTLE_TRY(auto saved, repo::InsertEnvironment(tx, e));
        env_ids_.push_back(saved.id);
        return {};
      }));
    }
    HubOptions hub;
    hub.node_name = "n1";
    hub.draining = [this] { return draining_.load(); };
    service_ = std::make_unique<AgentService>(*db_, secrets_, packages_, hub);
    service_->SetArtifacts(&artifacts_, 1 << 20);
    ctx_.agents = service_.get();
    http::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.handler_threads = 2;  // few: held polls must not need them
    o.log_requests = false;
    server_ = std::make_unique<http::Server>(o, api::BuildRouter(ctx_));
    ASSERT_TRUE(server_->Start());
    service_->Start();
  }

  void TearDown() override {
    if (service_) service_->Stop();
    if (server_) server_->Shutdown(1s);
  }

  uint16_t port() const { return server_->port(); }

 public:
  // What a second node on the same database shares with this one (agents_pgtest.cc).
  struct Parts {
    core::Clock& clock;
    std::string dir;
    const config::Options& options;
    const crypto::SecretBox& secrets;
  };

 protected:
  Parts parts() { return {clock_, dir_.path().string(), options_, secrets_}; }

  Reply WithKey(const std::string& method, const std::string& target, const json& body) {
    return Send(port(), method, target, body.is_null() ? "" : body.dump(),
                {{"X-Octopus-ApiKey", api_key_}, {"Content-Type", "application/json"}});
  }

  Reply Register(const agentwire::KeyPair& key, const std::string& name,
                 json environments = {"Dev"}, json roles = {"web"}) {
    return WithKey("POST", "/api/agent/v1/register",
                   {{"Name", name},
                    {"Environments", environments},
                    {"Roles", roles},
                    {"PublicKey", core::Base64Encode(key.public_key)},
                    {"Version", "test"}});
  }

  Agent NewAgent(const std::string& name) {
    Agent a{"", agentwire::GenerateKeyPair()};
    auto r = Register(a.key, name);
    EXPECT_EQ(r.status, 201) << r.body;
    a.id = r.Json().value("MachineId", "");
    return a;
  }

  static std::string Path(const std::string& rest) {
    return std::string(agentwire::kApiPrefix) + rest;
  }

  Reply Signed(const Agent& a, const std::string& method, const std::string& target,
               const std::string& body = "",
               std::vector<std::pair<std::string, std::string>> extra = {}, int64_t skew_ms = 0) {
    return SignedTo(port(), a, method, target, body, std::move(extra), skew_ms);
  }

  // Signed, to the node listening on `to`.
  static Reply SignedTo(uint16_t to, const Agent& a, const std::string& method,
                        const std::string& target, const std::string& body = "",
                        std::vector<std::pair<std::string, std::string>> extra = {},
                        int64_t skew_ms = 0) {
    const int64_t now = core::ToUnixMillis(core::SystemClock::Instance().Now()) + skew_ms;
    extra.emplace_back("Authorization",
                       agentwire::AuthorizationHeader(a.id, a.key, method, target, now, body));
    return Send(to, method, target, body, extra);
  }

  Reply Put(const Agent& a, const std::string& target, const std::string& body, int64_t epoch) {
    return Signed(a, "PUT", target, body, {{"Cuttle-Epoch", std::to_string(epoch)}});
  }

  // A queued script command for `a`, as the engine's AgentTarget creates one.
  std::string Queue(const Agent& a) {
    const std::string id = core::MakeId("AgentCommands", ++commands_);
    agentwire::Envelope e;
    e.command_id = id;
    e.task_id = "ServerTasks-1";
    e.unit_key = "1/Actions-1/" + a.id + "/" + id;
    e.script_body = "echo hello";
    e.variables.Set("Secret", "s3cret", true);
    EXPECT_TRUE(db_->Execute(
        "INSERT INTO agent_commands (id, space_id, machine_id, task_id, unit_key, kind, "
        "envelope, created_at) VALUES ($1, 'Spaces-1', $2, 'ServerTasks-1', $3, 'script', $4, "
        "now_ms())",
        {id, a.id, e.unit_key, secrets_.Seal(agentwire::EnvelopeToJson(e).dump())}));
    EXPECT_TRUE(db_->Notify(agentwire::kAgentChannel));
    return id;
  }

  std::string State(const std::string& id) {
    auto r = db_->Execute("SELECT state FROM agent_commands WHERE id = $1", {id});
    return r && !r->empty() ? r->front().GetString(0) : "";
  }

  static std::string Chunk(const std::string& text) {
    return agentwire::EncodeLine({engine::LogCategory::kInfo, text, 1'700'000'000'000});
  }

  static std::string ResultBody(int64_t last_seq, int exit_code = 0) {
    agentwire::CommandResult r;
    r.state = exit_code == 0 ? agentwire::ResultState::kSucceeded : agentwire::ResultState::kFailed;
    r.last_seq = last_seq;
    r.outcome.exit_code = exit_code;
    return agentwire::ResultToJson(r).dump();
  }

  // Polls until the command is offered and claims it; its epoch.
  int64_t Claimed(const Agent& a, const std::string& id) {
    auto polled = Signed(a, "GET", Path("/poll?wait=0"));
    EXPECT_EQ(polled.status, 200) << polled.body;
    auto claim = Signed(a, "POST", Path("/commands/" + id + "/claim"));
    EXPECT_EQ(claim.status, 200) << claim.body;
    return claim.Json().value("Epoch", int64_t{-1});
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<db::Database> db_;
  config::Options options_;
  cluster::NodeRegistry registry_;
  tasks::TaskQueue queue_;
  tasks::ArtifactStore artifacts_;
  feed::PackageStore packages_;
  crypto::SecretBox secrets_;
  api::ApiContext ctx_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<http::Server> server_;
  std::string api_key_;
  std::vector<std::string> env_ids_;
  std::atomic<bool> draining_{false};
  int64_t commands_ = 0;
};

TEST_F(AgentProtocolTest, RegistrationIsIdempotentOnThePublicKey) {
  auto key = agentwire::GenerateKeyPair();
  auto first = Register(key, "web-01", {"dev"}, {"web"});
  ASSERT_EQ(first.status, 201) << first.body;
  const json j = first.Json();
  const std::string id = j["MachineId"];
  EXPECT_EQ(j["SpaceId"], "Spaces-1");
  EXPECT_EQ(j["Name"], "web-01");
  EXPECT_EQ(j["Thumbprint"], agentwire::Thumbprint(key.public_key));
  EXPECT_EQ(j["PollSeconds"], 25);
  EXPECT_EQ(j["LeaseSeconds"], 45);
  EXPECT_EQ(j["HeartbeatSeconds"], 10);

  // The same key again: the same machine, its environments and roles replaced.
  auto again = Register(key, "web-01", {env_ids_[1], "Dev"}, {"web", "db"});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json()["MachineId"], id);

  auto m = WithKey("GET", "/api/Spaces-1/machines/" + id, nullptr);
  ASSERT_EQ(m.status, 200) << m.body;
  const json machine = m.Json();
  EXPECT_EQ(machine["Endpoint"]["CommunicationStyle"], "TentacleActive");
  EXPECT_EQ(machine["Endpoint"]["Thumbprint"], agentwire::Thumbprint(key.public_key));
  EXPECT_EQ(machine["Endpoint"]["Uri"], "poll://" + core::ToLower(id) + "/");
  EXPECT_EQ(machine["Roles"].size(), 2u);
  EXPECT_EQ(machine["EnvironmentIds"].size(), 2u);

  // Another key under a taken name: 409. Problems: 400 with every one listed.
  EXPECT_EQ(Register(agentwire::GenerateKeyPair(), "WEB-01").status, 409);
  auto bad = WithKey("POST", "/api/agent/v1/register",
                     {{"Name", "x"},
                      {"Environments", {"Nowhere"}},
                      {"Roles", json::array()},
                      {"PublicKey", "c2hvcnQ="}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.Json()["Errors"].size(), 2u) << bad.body;  // roles, key
  auto unknown_env = Register(agentwire::GenerateKeyPair(), "web-02", {"Nowhere"});
  EXPECT_EQ(unknown_env.status, 400);
  EXPECT_NE(unknown_env.body.find("Nowhere"), std::string::npos);
  // No API key: 401.
  auto anonymous = Send(port(), "POST", "/api/agent/v1/register", "{}", {});
  EXPECT_EQ(anonymous.status, 401);
}

TEST_F(AgentProtocolTest, BadSignaturesMissingHeadersAndOtherKeysAreRefused) {
  Agent a = NewAgent("a");
  EXPECT_EQ(Signed(a, "GET", Path("/me")).status, 200);
  EXPECT_EQ(Send(port(), "GET", Path("/me"), "", {}).status, 401);
  EXPECT_EQ(Send(port(), "GET", Path("/me"), "", {{"Authorization", "CuttleAgent x"}}).status, 401);
  Agent impostor{a.id, agentwire::GenerateKeyPair()};
  auto r = Signed(impostor, "GET", Path("/me"));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("signature"), std::string::npos) << r.body;
  // The signature covers the body and the target.
  const std::string target = Path("/commands/AgentCommands-1/heartbeat");
  const int64_t now = core::ToUnixMillis(core::SystemClock::Instance().Now());
  auto header = agentwire::AuthorizationHeader(a.id, a.key, "POST", target, now, "{}");
  EXPECT_EQ(
      Send(port(), "POST", target, "{\"x\":1}", {{"Authorization", header}, {"Cuttle-Epoch", "1"}})
          .status,
      401);
  header = agentwire::AuthorizationHeader(a.id, a.key, "GET", Path("/me?x=1"), now, "");
  EXPECT_EQ(Send(port(), "GET", Path("/me"), "", {{"Authorization", header}}).status, 401);
}

TEST_F(AgentProtocolTest, AReplayedRequestIsRefused) {
  Agent a = NewAgent("a");
  const int64_t now = core::ToUnixMillis(core::SystemClock::Instance().Now());
  auto header = agentwire::AuthorizationHeader(a.id, a.key, "GET", Path("/me"), now, "");
  EXPECT_EQ(Send(port(), "GET", Path("/me"), "", {{"Authorization", header}}).status, 200);
  auto replay = Send(port(), "GET", Path("/me"), "", {{"Authorization", header}});
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body.find("nonce"), std::string::npos) << replay.body;
  // The sweep keeps unexpired nonces.
  ASSERT_TRUE(service_->authenticator().SweepNonces());
  EXPECT_EQ(Send(port(), "GET", Path("/me"), "", {{"Authorization", header}}).status, 401);
}

TEST_F(AgentProtocolTest, ATimeFurtherThanTheSkewFromTheServerIsRefused) {
  Agent a = NewAgent("a");
  EXPECT_EQ(Signed(a, "GET", Path("/me"), "", {}, -60'000).status, 200);
  EXPECT_EQ(Signed(a, "GET", Path("/me"), "", {}, 60'000).status, 200);
  auto late = Signed(a, "GET", Path("/me"), "", {}, -200'000);
  EXPECT_EQ(late.status, 401);
  EXPECT_NE(late.body.find("clock"), std::string::npos) << late.body;
  EXPECT_EQ(Signed(a, "GET", Path("/me"), "", {}, 200'000).status, 401);
}

TEST_F(AgentProtocolTest, ADeletedMachinesAgentIsRefusedAndItsQueuedCommandsCanceled) {
  Agent a = NewAgent("a");
  const std::string queued = Queue(a);
  auto del = WithKey("DELETE", "/api/Spaces-1/machines/" + a.id, nullptr);
  ASSERT_EQ(del.status, 200) << del.body;
  auto r = Signed(a, "GET", Path("/poll?wait=0"));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.Json().value("ErrorMessage", "").find("is not registered with this server"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(State(queued), "canceled");
}

TEST_F(AgentProtocolTest, DeregisterDeletesTheMachine) {
  Agent a = NewAgent("a");
  auto me = Signed(a, "GET", Path("/me"));
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Json()["Id"], a.id);
  EXPECT_EQ(Signed(a, "DELETE", Path("/me")).status, 200);
  EXPECT_EQ(WithKey("GET", "/api/Spaces-1/machines/" + a.id, nullptr).status, 404);
  EXPECT_EQ(Signed(a, "GET", Path("/me")).status, 401);
}

TEST_F(AgentProtocolTest, OffersClaimsAndEpochFencing) {
  Agent a = NewAgent("a");
  Agent b = NewAgent("b");
  const std::string id = Queue(a);
  auto polled = Signed(a, "GET", Path("/poll?wait=0"));
  ASSERT_EQ(polled.status, 200) << polled.body;
  json offers = polled.Json()["Offers"];
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0]["CommandId"], id);
  EXPECT_EQ(offers[0]["Kind"], "script");
  auto envelope = agentwire::EnvelopeFromJson(offers[0]["Envelope"]);
  ASSERT_TRUE(envelope) << envelope.error().message();
  EXPECT_EQ(envelope->script_body, "echo hello");
  EXPECT_EQ(State(id), "offered");
  // An unexpired offer is not made twice; b gets nothing.
  EXPECT_EQ(Signed(a, "GET", Path("/poll?wait=0")).status, 204);
  EXPECT_EQ(Signed(b, "GET", Path("/poll?wait=0")).status, 204);

  EXPECT_EQ(Signed(b, "POST", Path("/commands/" + id + "/claim")).status, 404);
  auto claim = Signed(a, "POST", Path("/commands/" + id + "/claim"));
  ASSERT_EQ(claim.status, 200) << claim.body;
  EXPECT_EQ(claim.Json()["Epoch"], 1);
  EXPECT_EQ(claim.Json()["LeaseSeconds"], 45);
  // A claim whose reply was lost answers the same epoch.
  EXPECT_EQ(Signed(a, "POST", Path("/commands/" + id + "/claim")).Json()["Epoch"], 1);
  EXPECT_EQ(State(id), "running");

  const std::string log0 = Path("/commands/" + id + "/log/0");
  auto put = Put(a, log0, Chunk("one"), 1);
  EXPECT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.Json()["Cancel"], false);
  auto stored = db_->Execute(
      "SELECT received_node, digest FROM agent_command_output WHERE command_id = $1", {id});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->front().GetString(0), "n1");
  EXPECT_EQ(stored->front().GetString(1), crypto::Sha256Hex(Chunk("one")));
  EXPECT_EQ(Put(a, log0, Chunk("one"), 1).status, 200);  // the same chunk again
  auto other = Put(a, log0, Chunk("other"), 1);          // a different one
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.Json()["CommandState"], "running");
  EXPECT_FALSE(other.Json().contains("Epoch"));
  // A refusal says the command's state (and epoch) in fields of its own, beside the message.
  auto fenced = Put(a, Path("/commands/" + id + "/log/1"), Chunk("two"), 2);
  EXPECT_EQ(fenced.status, 410);
  EXPECT_EQ(fenced.Json()["CommandState"], "running");
  EXPECT_EQ(fenced.Json()["Epoch"], 1);
  EXPECT_EQ(fenced.Json()["Errors"], json::array());
  EXPECT_NE(fenced.Json().value("ErrorMessage", "").find(" is running at epoch 1"),
            std::string::npos);
  EXPECT_EQ(Put(a, Path("/commands/" + id + "/log/1"), "not json\n", 1).status, 400);
  auto not_ours = Put(b, Path("/commands/" + id + "/log/1"), Chunk("two"), 1);
  EXPECT_EQ(not_ours.status, 404);
  EXPECT_FALSE(not_ours.Json().contains("CommandState"));  // nothing to say about another's
  auto hb = Signed(a, "POST", Path("/commands/" + id + "/heartbeat"), "", {{"Cuttle-Epoch", "1"}});
  EXPECT_EQ(hb.status, 200) << hb.body;
  auto stale =
      Signed(a, "POST", Path("/commands/" + id + "/heartbeat"), "", {{"Cuttle-Epoch", "0"}});
  EXPECT_EQ(stale.status, 410);
  EXPECT_EQ(stale.Json()["CommandState"], "running");
  EXPECT_EQ(stale.Json()["Epoch"], 1);

  // A cancel request shows in the heartbeat's answer and in polls.
  ASSERT_TRUE(
      db_->Execute("UPDATE agent_commands SET cancel_requested = TRUE WHERE id = $1", {id}));
  EXPECT_EQ(Signed(a, "POST", Path("/commands/" + id + "/heartbeat"), "", {{"Cuttle-Epoch", "1"}})
                .Json()["Cancel"],
            true);
  auto cancels = Signed(a, "GET", Path("/poll?wait=0"));
  ASSERT_EQ(cancels.status, 200);
  EXPECT_EQ(cancels.Json()["Cancels"], json({id}));
  // Given once: the next poll is not answered with it again at once (no busy loop).
  EXPECT_EQ(Signed(a, "GET", Path("/poll?wait=0")).status, 204);

  // The result waits for its chunks: 412 names the missing ones.
  const std::string result = Path("/commands/" + id + "/result");
  auto missing = Put(a, result, ResultBody(2), 1);
  ASSERT_EQ(missing.status, 412) << missing.body;
  EXPECT_EQ(missing.Json()["MissingSeqs"], json({1, 2}));
  EXPECT_EQ(State(id), "running");
  EXPECT_EQ(Put(a, Path("/commands/" + id + "/log/1"), Chunk("two"), 1).status, 201);
  EXPECT_EQ(Put(a, Path("/commands/" + id + "/log/2"), Chunk("three"), 1).status, 201);
  auto wrong_epoch = Put(a, result, ResultBody(2), 2);
  EXPECT_EQ(wrong_epoch.status, 410);
  EXPECT_EQ(wrong_epoch.Json()["CommandState"], "running");
  EXPECT_EQ(wrong_epoch.Json()["Epoch"], 1);
  auto recorded = Put(a, result, ResultBody(2), 1);
  ASSERT_EQ(recorded.status, 200) << recorded.body;
  EXPECT_FALSE(recorded.Json().contains("Late"));
  EXPECT_EQ(State(id), "succeeded");
  auto row = db_->Execute("SELECT result, last_seq FROM agent_commands WHERE id = $1", {id});
  ASSERT_TRUE(row);
  const std::string sealed = row->front().GetString(0);
  EXPECT_TRUE(sealed.starts_with(crypto::SecretBox::kPrefix));
  EXPECT_EQ(*core::ParseJson(*secrets_.Open(sealed)), *core::ParseJson(ResultBody(2)));
  EXPECT_EQ(row->front().GetInt(1), 2);
  EXPECT_EQ(Put(a, result, ResultBody(2), 1).status, 200);  // an identical repeat
  auto different = Put(a, result, ResultBody(2, 1), 1);     // a different result
  EXPECT_EQ(different.status, 409);
  EXPECT_EQ(different.Json()["CommandState"], "succeeded");
  auto after = Put(a, Path("/commands/" + id + "/log/3"), Chunk("late"), 1);
  EXPECT_EQ(after.status, 410);
  EXPECT_EQ(after.Json()["CommandState"], "succeeded");
  EXPECT_EQ(after.Json()["Epoch"], 1);
  auto reclaim = Signed(a, "POST", Path("/commands/" + id + "/claim"));
  EXPECT_EQ(reclaim.status, 409);
  EXPECT_EQ(reclaim.Json()["CommandState"], "succeeded");
  EXPECT_FALSE(reclaim.Json().contains("Epoch"));
}

TEST_F(AgentProtocolTest, AnUploadedArtifactIsTheTasksLikeABuiltInWorkersOne) {
  Agent a = NewAgent("a");
  Agent b = NewAgent("b");
  const std::string id = Queue(a);
  const int64_t epoch = Claimed(a, id);
  ASSERT_EQ(epoch, 1);
  const std::string bytes = std::string("report\n\0binary\xff", 15);
  const std::string sha = crypto::Sha256Hex(bytes);
  auto upload = [&](const Agent& who, int n, const std::string& body, const std::string& digest,
                    int64_t at, const std::string& name = "report%20one.txt") {
    return Signed(who, "PUT", Path(fmt::format("/commands/{}/artifacts/{}?name={}", id, n, name)),
                  body, {{"Cuttle-Epoch", std::to_string(at)}, {"Cuttle-Sha256", digest}});
  };
  auto first = upload(a, 0, bytes, sha, epoch);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string artifact_id = first.Json().value("ArtifactId", "");
  ASSERT_FALSE(artifact_id.empty());
  // The same file again (a restarted agent that did not record the answer): 200, stored once.
  auto again = upload(a, 0, bytes, sha, epoch);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().value("ArtifactId", ""), artifact_id);
  // Another file at the same number: 409.
  EXPECT_EQ(upload(a, 0, "other", crypto::Sha256Hex("other"), epoch).status, 409);
  // A digest that is not the body's, a name that leaves the folder, another agent: refused.
  EXPECT_EQ(upload(a, 1, bytes, crypto::Sha256Hex("x"), epoch).status, 400);
  EXPECT_EQ(upload(a, 1, bytes, sha, epoch, "..%2Fescape").status, 400);
  EXPECT_EQ(upload(b, 1, bytes, sha, 1).status, 404);
  // Above the node's limit (1 MiB here): 413.
  const std::string big(1024 * 1024 + 1, 'x');
  EXPECT_EQ(upload(a, 1, big, crypto::Sha256Hex(big), epoch).status, 413);
  // A wrong epoch is fenced: 410, nothing stored.
  auto fenced = upload(a, 1, "late", crypto::Sha256Hex("late"), epoch + 1);
  EXPECT_EQ(fenced.status, 410) << fenced.body;
  // A bad signature: 401.
  const std::string target = Path(fmt::format("/commands/{}/artifacts/2?name=x.txt", id));
  const int64_t now = core::ToUnixMillis(core::SystemClock::Instance().Now());
  auto header = agentwire::AuthorizationHeader(a.id, a.key, "PUT", target, now, "signed");
  EXPECT_EQ(Send(port(), "PUT", target, "tampered",
                 {{"Authorization", header},
                  {"Cuttle-Epoch", "1"},
                  {"Cuttle-Sha256", crypto::Sha256Hex("tampered")}})
                .status,
            401);

  // Listed for the task and downloadable, as a built-in worker's artifact is.
  auto listed = WithKey("GET", "/api/artifacts?regarding=ServerTasks-1", nullptr);
  ASSERT_EQ(listed.status, 200) << listed.body;
  const json items = listed.Json()["Items"];
  ASSERT_EQ(items.size(), 1u) << listed.body;
  EXPECT_EQ(items[0]["Id"], artifact_id);
  EXPECT_EQ(items[0]["Filename"], "report one.txt");
  EXPECT_EQ(items[0]["ServerTaskId"], "ServerTasks-1");
  auto content = WithKey("GET", "/api/artifacts/" + artifact_id + "/content", nullptr);
  EXPECT_EQ(content.status, 200);
  EXPECT_EQ(content.body, bytes);

  // Once the command is final, uploads are fenced; the recorded one still answers 200.
  ASSERT_EQ(Put(a, Path("/commands/" + id + "/result"), ResultBody(-1), epoch).status, 200);
  EXPECT_EQ(upload(a, 1, "late", crypto::Sha256Hex("late"), epoch).status, 410);
  EXPECT_EQ(upload(a, 0, bytes, sha, epoch).status, 200);
  auto count = db_->Execute("SELECT COUNT(*) FROM artifacts");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->front().GetInt(0), 1);
}

// Another node on the fixture's database and the same artifact store (as the cluster's shared
// file store): its own AgentService, ArtifactStore object and HTTP server.
struct PeerNode {
  PeerNode(db::Database& db, const crypto::SecretBox& secrets, feed::PackageStore& packages,
           const api::ApiContext& base, const std::string& artifacts_root)
      : artifacts(db, artifacts_root), ctx(base) {
    HubOptions hub;
    hub.node_name = "n2";
    service = std::make_unique<AgentService>(db, secrets, packages, hub);
    service->SetArtifacts(&artifacts, 1 << 20);
    ctx.agents = service.get();
    http::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.handler_threads = 2;
    o.log_requests = false;
    server = std::make_unique<http::Server>(o, api::BuildRouter(ctx));
    EXPECT_TRUE(server->Start());
  }
  ~PeerNode() { server->Shutdown(1s); }
  uint16_t port() const { return server->port(); }

  tasks::ArtifactStore artifacts;
  api::ApiContext ctx;
  std::unique_ptr<AgentService> service;
  std::unique_ptr<http::Server> server;
};

// Uploads in pieces (docs/agent.md, "Uploads in pieces"): consecutive pieces on two nodes sharing
// the store, a repeat, a gap answered with where to resume, the whole stored once and
// byte-identical; a final hash mismatch, a size over the limit, a piece outside the size and a
// fenced upload change nothing and leave no partial file; the sweep removes what an ended command
// left.
TEST_F(AgentProtocolTest, AnArtifactUploadedInPiecesIsStoredWholeOnce) {
  PeerNode n2(*db_, secrets_, packages_, ctx_, dir_.path().string() + "/artifacts");
  Agent a = NewAgent("a");
  const std::string id = Queue(a);
  const int64_t epoch = Claimed(a, id);
  ASSERT_EQ(epoch, 1);
  std::string file(250'000, '\0');
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>((i * 7919 + i / 251) & 0xff);
  const std::string sha = crypto::Sha256Hex(file);
  auto piece = [&](uint16_t to, int n, size_t offset, size_t length, const std::string& digest,
                   int64_t at, size_t total = 250'000) {
    const std::string target = Path(fmt::format(
        "/commands/{}/artifacts/{}?name=big.bin&offset={}&size={}", id, n, offset, total));
    return SignedTo(to, a, "PUT", target, file.substr(offset, length),
                    {{"Cuttle-Epoch", std::to_string(at)}, {"Cuttle-Sha256", digest}});
  };
  auto state = [&](uint16_t to, int n, const std::string& digest) {
    return SignedTo(to, a, "GET", Path(fmt::format("/commands/{}/artifacts/{}?size=250000", id, n)),
                    "", {{"Cuttle-Sha256", digest}});
  };
  auto rows = [&](const char* table) {
    auto c = db_->Execute(std::string("SELECT COUNT(*) FROM ") + table);
    return c ? c->front().GetInt(0) : -1;
  };

  auto fresh = state(port(), 0, sha);
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(fresh.Json()["Received"], 0);
  auto p0 = piece(port(), 0, 0, 100'000, sha, epoch);
  ASSERT_EQ(p0.status, 200) << p0.body;
  EXPECT_EQ(p0.Json()["Received"], 100'000);
  EXPECT_EQ(p0.Json()["Size"], 250'000);
  // The same piece again (its answer was lost): 200, held once.
  auto repeat = piece(n2.port(), 0, 0, 100'000, sha, epoch);
  EXPECT_EQ(repeat.status, 200) << repeat.body;
  EXPECT_EQ(repeat.Json()["Received"], 100'000);
  // A gap: 409 naming where to resume, nothing written.
  auto gap = piece(port(), 0, 200'000, 50'000, sha, epoch);
  ASSERT_EQ(gap.status, 409) << gap.body;
  EXPECT_EQ(gap.Json()["Received"], 100'000);
  EXPECT_TRUE(gap.Json()["Errors"].is_array());
  EXPECT_NE(gap.Json().value("ErrorMessage", "").find("send from offset 100000"),
            std::string::npos);
  // The next piece on the other node; the state is the same on both.
  auto p1 = piece(n2.port(), 0, 100'000, 100'000, sha, epoch);
  ASSERT_EQ(p1.status, 200) << p1.body;
  EXPECT_EQ(p1.Json()["Received"], 200'000);
  EXPECT_EQ(state(port(), 0, sha).Json()["Received"], 200'000);
  EXPECT_EQ(state(n2.port(), 0, sha).Json()["Received"], 200'000);
  EXPECT_EQ(rows("artifacts"), 0);
  // The last piece overlapping what is held (same bytes): completes and stores it.
  auto last = piece(port(), 0, 150'000, 100'000, sha, epoch);
  ASSERT_EQ(last.status, 201) << last.body;
  const std::string artifact_id = last.Json().value("ArtifactId", "");
  ASSERT_FALSE(artifact_id.empty());
  EXPECT_EQ(last.Json()["Received"], 250'000);
  auto again = piece(n2.port(), 0, 200'000, 50'000, sha, epoch);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json().value("ArtifactId", ""), artifact_id);
  EXPECT_EQ(state(n2.port(), 0, sha).Json().value("ArtifactId", ""), artifact_id);
  auto content = WithKey("GET", "/api/artifacts/" + artifact_id + "/content", nullptr);
  EXPECT_EQ(content.status, 200);
  EXPECT_TRUE(content.body == file) << content.body.size();
  EXPECT_EQ(rows("artifacts"), 1);
  EXPECT_TRUE(artifacts_.PartialUploads().empty());

  // The whole file's SHA-256 is not the header's: 400 on the last piece, the partial file gone.
  const std::string wrong = crypto::Sha256Hex("not the file");
  ASSERT_EQ(piece(port(), 1, 0, 100'000, wrong, epoch).status, 200);
  EXPECT_EQ(artifacts_.PartialUploads().size(), 1u);
  auto mismatch = piece(n2.port(), 1, 100'000, 150'000, wrong, epoch);
  EXPECT_EQ(mismatch.status, 400) << mismatch.body;
  EXPECT_NE(mismatch.Json().value("ErrorMessage", "").find("SHA-256"), std::string::npos);
  EXPECT_TRUE(artifacts_.PartialUploads().empty());
  EXPECT_EQ(state(port(), 1, wrong).Json()["Received"], 0);
  // Over the node's limit (1 MiB here): 413 on the first piece; a piece past the size, bad
  // numbers, a header that is no SHA-256: 400. None leaves anything.
  auto big = piece(port(), 2, 0, 1000, sha, epoch, (1 << 20) + 1);
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_FALSE(big.Json().value("ErrorMessage", "").empty());
  EXPECT_EQ(piece(port(), 2, 100'000, 100'000, sha, epoch, 150'000).status, 400);
  EXPECT_EQ(
      Signed(a, "PUT", Path(fmt::format("/commands/{}/artifacts/2?name=b&offset=x&size=9", id)),
             "abc", {{"Cuttle-Epoch", "1"}, {"Cuttle-Sha256", sha}})
          .status,
      400);
  EXPECT_EQ(piece(port(), 2, 0, 1000, "abc", epoch).status, 400);
  EXPECT_TRUE(artifacts_.PartialUploads().empty());
  EXPECT_EQ(rows("artifacts"), 1);

  // Fenced mid-upload (a wrong epoch): 410, the partial file removed, nothing stored.
  ASSERT_EQ(piece(port(), 3, 0, 100'000, sha, epoch).status, 200);
  auto fenced = piece(n2.port(), 3, 100'000, 150'000, sha, epoch + 1);
  EXPECT_EQ(fenced.status, 410) << fenced.body;
  EXPECT_TRUE(artifacts_.PartialUploads().empty());
  // An upload the command's end interrupts: refused, and the sweep removes its partial file.
  ASSERT_EQ(piece(port(), 4, 0, 100'000, sha, epoch).status, 200);
  service_->SweepUploads();  // still running: kept
  EXPECT_EQ(artifacts_.PartialUploads().size(), 1u);
  ASSERT_EQ(Put(a, Path("/commands/" + id + "/result"), ResultBody(-1), epoch).status, 200);
  EXPECT_EQ(piece(n2.port(), 4, 100'000, 150'000, sha, epoch).status, 410);
  ASSERT_EQ(piece(port(), 0, 0, 100'000, sha, epoch).status, 200);  // stored: still answered
  EXPECT_EQ(rows("artifacts"), 1);
  EXPECT_EQ(rows("agent_command_artifacts"), 1);
  EXPECT_TRUE(artifacts_.PartialUploads().empty());
}

// A node that dies mid-upload loses nothing it answered: the next pieces go to another node, which
// continues from the shared store. The same last piece sent to two nodes at once (a retry that
// overlaps a slow answer) is stored once: one 201, the other 200 with the same artifact.
TEST_F(AgentProtocolTest, AnUploadInPiecesSurvivesANodeAndConcurrentLastPieces) {
  Agent a = NewAgent("a");
  const std::string id = Queue(a);
  const int64_t epoch = Claimed(a, id);
  std::string file(300'000, '\0');
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>((i * 131 + 7) & 0xff);
  const std::string sha = crypto::Sha256Hex(file);
  auto piece = [&](uint16_t to, int n, size_t offset, size_t length) {
    const std::string target = Path(fmt::format(
        "/commands/{}/artifacts/{}?name=f{}.bin&offset={}&size={}", id, n, n, offset, file.size()));
    return SignedTo(to, a, "PUT", target, file.substr(offset, length),
                    {{"Cuttle-Epoch", std::to_string(epoch)}, {"Cuttle-Sha256", sha}});
  };
  {
    PeerNode n2(*db_, secrets_, packages_, ctx_, dir_.path().string() + "/artifacts");
    ASSERT_EQ(piece(n2.port(), 0, 0, 100'000).status, 200);
    ASSERT_EQ(piece(n2.port(), 0, 100'000, 100'000).status, 200);
  }  // node 2 is gone
  auto rest = piece(port(), 0, 200'000, 100'000);
  ASSERT_EQ(rest.status, 201) << rest.body;
  auto content =
      WithKey("GET", "/api/artifacts/" + rest.Json().value("ArtifactId", "") + "/content", nullptr);
  EXPECT_TRUE(content.body == file);

  PeerNode n3(*db_, secrets_, packages_, ctx_, dir_.path().string() + "/artifacts");
  ASSERT_EQ(piece(port(), 1, 0, 200'000).status, 200);
  auto one = std::async(std::launch::async, [&] { return piece(port(), 1, 200'000, 100'000); });
  auto two = std::async(std::launch::async, [&] { return piece(n3.port(), 1, 200'000, 100'000); });
  Reply r1 = one.get(), r2 = two.get();
  std::multiset<long> statuses{static_cast<long>(r1.status), static_cast<long>(r2.status)};
  EXPECT_EQ(statuses, (std::multiset<long>{200, 201})) << r1.body << " / " << r2.body;
  EXPECT_EQ(r1.Json().value("ArtifactId", ""), r2.Json().value("ArtifactId", ""));
  auto stored = db_->Execute("SELECT COUNT(*) FROM artifacts WHERE filename = 'f1.bin'");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->front().GetInt(0), 1);
  EXPECT_TRUE(artifacts_.PartialUploads().empty());
}

// The sweep removes a partial upload whose command ended while nobody was sending to it.
TEST_F(AgentProtocolTest, TheSweepRemovesPartialUploadsOfEndedCommands) {
  Agent a = NewAgent("a");
  const std::string id = Queue(a);
  const int64_t epoch = Claimed(a, id);
  const std::string bytes(1000, 'p');
  const std::string sha = crypto::Sha256Hex(bytes + bytes);
  auto first =
      Signed(a, "PUT", Path(fmt::format("/commands/{}/artifacts/0?name=x&offset=0&size=2000", id)),
             bytes, {{"Cuttle-Epoch", std::to_string(epoch)}, {"Cuttle-Sha256", sha}});
  ASSERT_EQ(first.status, 200) << first.body;
  service_->SweepUploads();
  EXPECT_EQ(artifacts_.PartialUploads().size(), 1u);
  ASSERT_EQ(Put(a, Path("/commands/" + id + "/result"), ResultBody(-1), epoch).status, 200);
  service_->SweepUploads();
  EXPECT_TRUE(artifacts_.PartialUploads().empty());
}

TEST_F(AgentProtocolTest, AnExpiredOfferIsMadeAgain) {
  Agent a = NewAgent("a");
  const std::string id = Queue(a);
  ASSERT_EQ(Signed(a, "GET", Path("/poll?wait=0")).status, 200);
  ASSERT_TRUE(db_->Execute(
      "UPDATE agent_commands SET offer_expires_at = now_ms() - 1 WHERE id = $1", {id}));
  auto again = Signed(a, "GET", Path("/poll?wait=0"));
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["Offers"][0]["CommandId"], id);
  auto count = db_->Execute("SELECT delivery_count FROM agent_commands WHERE id = $1", {id});
  EXPECT_EQ(count->front().GetInt(0), 2);
}

TEST_F(AgentProtocolTest, AResultForALostCommandIsKeptAsLateOnly) {
  Agent a = NewAgent("a");
  const std::string id = Queue(a);
  ASSERT_EQ(Claimed(a, id), 1);
  ASSERT_TRUE(db_->Execute("UPDATE agent_commands SET state = 'lost' WHERE id = $1", {id}));
  auto late = Put(a, Path("/commands/" + id + "/result"), ResultBody(-1), 1);
  ASSERT_EQ(late.status, 200) << late.body;
  EXPECT_EQ(late.Json()["Late"], true);
  EXPECT_EQ(State(id), "lost");
  auto row = db_->Execute("SELECT result, late_result FROM agent_commands WHERE id = $1", {id});
  EXPECT_TRUE(row->front().IsNull(0));
  EXPECT_TRUE(row->front().GetString(1).starts_with(crypto::SecretBox::kPrefix));
  auto fenced = Put(a, Path("/commands/" + id + "/result"), ResultBody(-1), 2);
  EXPECT_EQ(fenced.status, 410);
  EXPECT_EQ(fenced.Json()["CommandState"], "lost");
  EXPECT_EQ(fenced.Json()["Epoch"], 1);
  // The agent keeps a lost command's script running on these fields (docs/agent.md, "Refusals").
  auto hb = Signed(a, "POST", Path("/commands/" + id + "/heartbeat"), "", {{"Cuttle-Epoch", "1"}});
  EXPECT_EQ(hb.status, 410);
  EXPECT_EQ(hb.Json()["CommandState"], "lost");
  EXPECT_EQ(hb.Json()["Epoch"], 1);
  auto claim = Signed(a, "POST", Path("/commands/" + id + "/claim"));
  EXPECT_EQ(claim.status, 409);
  EXPECT_EQ(claim.Json()["CommandState"], "lost");
}

TEST_F(AgentProtocolTest, AHeldPollIsWokenByANewCommandWellUnderASecond) {
  Agent a = NewAgent("a");
  auto poll =
      std::async(std::launch::async, [&] { return Signed(a, "GET", Path("/poll?wait=20")); });
  // Wait until the poll is held, then queue.
  for (int i = 0; i < 200 && service_->hub().held() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(service_->hub().held(), 1u);
  const auto queued_at = SteadyClock::now();
  const std::string id = Queue(a);
  auto r = poll.get();
  const auto took = SteadyClock::now() - queued_at;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["Offers"][0]["CommandId"], id);
  // Woken by the command, not answered by its own 20 s wait (latency is bench/agent_bench.mjs's).
  EXPECT_LT(took, 10s);
}

TEST_F(AgentProtocolTest, AHeldPollEndsWith204AfterItsWaitAndManyPollsHoldNoThread) {
  std::vector<Agent> agents;
  for (int i = 0; i < 6; ++i) agents.push_back(NewAgent(fmt::format("a{}", i)));
  std::vector<std::future<Reply>> polls;
  // More held polls than handler threads (2): they hold none.
  for (auto& a : agents) {
    polls.push_back(
        std::async(std::launch::async, [&] { return Signed(a, "GET", Path("/poll?wait=1")); }));
  }
  for (int i = 0; i < 300 && service_->hub().held() < agents.size(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(service_->hub().held(), agents.size());
  EXPECT_EQ(Signed(agents[0], "GET", Path("/me")).status, 200);
  for (auto& p : polls) EXPECT_EQ(p.get().status, 204);
}

TEST_F(AgentProtocolTest, AHeldPollOfARevokedAgentGets401WithinTheSweep) {
  Agent a = NewAgent("a");
  auto poll =
      std::async(std::launch::async, [&] { return Signed(a, "GET", Path("/poll?wait=20")); });
  for (int i = 0; i < 200 && service_->hub().held() == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(WithKey("DELETE", "/api/Spaces-1/machines/" + a.id, nullptr).status, 200);
  const auto deleted_at = SteadyClock::now();
  auto r = poll.get();
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("is not registered with this server"), std::string::npos);
  EXPECT_LT(SteadyClock::now() - deleted_at, 10s);  // by the sweep, not the 20 s wait
}

TEST_F(AgentProtocolTest, ADrainingNodeAnswersHeldPolls204AndRefusesNewOnes) {
  Agent a = NewAgent("a");
  auto poll =
      std::async(std::launch::async, [&] { return Signed(a, "GET", Path("/poll?wait=20")); });
  for (int i = 0; i < 200 && service_->hub().held() == 0; ++i) std::this_thread::sleep_for(10ms);
  const auto start = SteadyClock::now();
  draining_ = true;
  EXPECT_EQ(poll.get().status, 204);
  EXPECT_LT(SteadyClock::now() - start, 10s);  // at the drain, not at the 20 s wait
  auto refused = Signed(a, "GET", Path("/poll"));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.Header("Retry-After"), "1");
}

TEST_F(AgentProtocolTest, StoppingAnswersHeldPollsAtOnce) {
  Agent a = NewAgent("a");
  auto poll =
      std::async(std::launch::async, [&] { return Signed(a, "GET", Path("/poll?wait=20")); });
  for (int i = 0; i < 200 && service_->hub().held() == 0; ++i) std::this_thread::sleep_for(10ms);
  const auto start = SteadyClock::now();
  service_->Stop();
  EXPECT_EQ(poll.get().status, 204);
  EXPECT_LT(SteadyClock::now() - start, 10s);  // at the stop, not at the 20 s wait
}

TEST_F(AgentProtocolTest, LivenessMarksASilentAgentUnavailableAndBackWhenItPolls) {
  Agent a = NewAgent("a");
  ASSERT_TRUE(db_->Execute(
      "UPDATE agents SET last_seen_at = now_ms() - 61000 WHERE machine_id = $1", {a.id}));
  auto marked = service_->hub().MarkUnavailable();
  ASSERT_TRUE(marked);
  EXPECT_EQ(*marked, 1);
  auto health = [&] {
    return WithKey("GET", "/api/Spaces-1/machines/" + a.id, nullptr).Json()["HealthStatus"];
  };
  EXPECT_EQ(health(), "Unavailable");
  EXPECT_EQ(Signed(a, "GET", Path("/poll?wait=0")).status, 204);
  ASSERT_TRUE(service_->hub().FlushLiveness());
  EXPECT_EQ(health(), "Healthy");
  auto seen = db_->Execute("SELECT last_seen_node FROM agents WHERE machine_id = $1", {a.id});
  EXPECT_EQ(seen->front().GetString(0), "n1");
  EXPECT_EQ(*service_->hub().MarkUnavailable(), 0);
}

// The machines resource carries Cuttle's LastContact: the agent's last_seen_at as ISO 8601 on the
// one target, the list and the environment's list; null for a target without an agent; a PUT
// neither changes nor stores it.
TEST_F(AgentProtocolTest, MachinesShowTheirAgentsLastContact) {
  Agent a = NewAgent("a");
  ASSERT_TRUE(
      db_->Execute("UPDATE agents SET last_seen_at = 1767225600000 WHERE machine_id = $1", {a.id}));
  auto cloud = WithKey("POST", "/api/machines",
                       {{"Name", "cloud"},
                        {"EnvironmentIds", {env_ids_[0]}},
                        {"Roles", {"web"}},
                        {"Endpoint", {{"CommunicationStyle", "None"}}}});
  ASSERT_EQ(cloud.status, 201) << cloud.body;
  EXPECT_TRUE(cloud.Json()["LastContact"].is_null()) << cloud.body;
  const std::string cloud_id = cloud.Json()["Id"];

  auto one = WithKey("GET", "/api/Spaces-1/machines/" + a.id, nullptr);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Json()["LastContact"], "2026-01-01T00:00:00.000+00:00") << one.body;
  const std::vector<std::string> lists = {"/api/machines",
                                          "/api/environments/" + env_ids_[0] + "/machines"};
  for (const std::string& list : lists) {
    auto page = WithKey("GET", list, nullptr);
    ASSERT_EQ(page.status, 200) << page.body;
    std::map<std::string, json> by_name;
    const json items = page.Json()["Items"];
    for (const auto& m : items) {
      by_name[m["Name"].get<std::string>()] = m["LastContact"];
    }
    EXPECT_EQ(by_name["a"], "2026-01-01T00:00:00.000+00:00") << list << ": " << page.body;
    EXPECT_TRUE(by_name["cloud"].is_null()) << list;
  }

  // A client's LastContact is not the server's: ignored, not kept as an extra property.
  auto put = WithKey("PUT", "/api/machines/" + cloud_id, {{"LastContact", "2020-01-01T00:00:00Z"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_TRUE(put.Json()["LastContact"].is_null()) << put.body;

  // A poll moves it forward.
  EXPECT_EQ(Signed(a, "GET", Path("/poll?wait=0")).status, 204);
  ASSERT_TRUE(service_->hub().FlushLiveness());
  auto after = WithKey("GET", "/api/machines/" + a.id, nullptr).Json();
  EXPECT_GT(after["LastContact"].get<std::string>(), "2026-01-01T00:00:00.000+00:00");
}

TEST_F(AgentProtocolTest, APackageDownloadsWholeAndResumesWithARange) {
  Agent a = NewAgent("a");
  const std::string content = crypto::RandomBytes(300'000);  // does not compress
  const std::string zip = engine::testing::MakeArchive(
      engine::testing::Kind::kZip, {engine::testing::File("data.txt", content)});
  bool sent = false;
  auto up = packages_.Upload("Spaces-1", "Hello.1.0.0.zip", feed::OverwriteMode::kFailIfExists,
                             [&]() -> Result<std::string_view> {
                               if (sent) return std::string_view();
                               sent = true;
                               return std::string_view(zip);
                             });
  ASSERT_TRUE(up) << up.error().message();
  const std::string target = Path("/packages/Spaces-1/Hello/1.0.0");
  auto whole = Signed(a, "GET", target);
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.body, zip);
  EXPECT_EQ(whole.Header("Accept-Ranges"), "bytes");
  EXPECT_EQ(whole.Header("ETag"), "\"" + crypto::Sha256Hex(zip) + "\"");
  auto rest = Signed(a, "GET", target, "", {{"Range", "bytes=1000-"}});
  ASSERT_EQ(rest.status, 206);
  EXPECT_EQ(rest.body, zip.substr(1000));
  EXPECT_EQ(rest.Header("Content-Range"),
            fmt::format("bytes 1000-{}/{}", zip.size() - 1, zip.size()));
  EXPECT_EQ(Signed(a, "GET", target, "", {{"Range", fmt::format("bytes={}-", zip.size())}}).status,
            416);
  EXPECT_EQ(Signed(a, "GET", Path("/packages/Spaces-1/Hello/9.9.9")).status, 404);
  EXPECT_EQ(Signed(a, "GET", Path("/packages/Spaces-2/Hello/1.0.0")).status, 404);
}

// An answer to a bad request: 4xx, one line of Octopus-shaped JSON error.
void ExpectClientError(const Reply& r, const std::string& what) {
  EXPECT_GE(r.status, 400) << what << ": " << r.body;
  EXPECT_LT(r.status, 500) << what << ": " << r.body;
  auto j = core::ParseJson(r.body);
  ASSERT_TRUE(j && j->is_object()) << what << ": " << r.body;
  const std::string message = j->value("ErrorMessage", "");
  EXPECT_FALSE(message.empty()) << what << ": " << r.body;
  EXPECT_EQ(message.find('\n'), std::string::npos) << what << ": " << r.body;
}

TEST_F(AgentProtocolTest, BadAgentRequestsAre4xxAndChangeNothing) {
  Agent a = NewAgent("a");
  Agent b = NewAgent("b");
  const std::string id = Queue(a);
  const int64_t epoch = Claimed(a, id);
  ASSERT_EQ(epoch, 1);
  const std::string log = Path("/commands/" + id + "/log/");
  ExpectClientError(
      Put(a, log + "0", std::string("{\"Category\":\"Info\",\"Text\":\"\xff\xfe\"}\n"), 1),
      "non-UTF-8 chunk");
  ExpectClientError(Put(a, log + "0", "\xff\xfe\n", 1), "binary chunk");
  ExpectClientError(Put(a, log + "-1", Chunk("x"), 1), "negative seq");
  ExpectClientError(Put(a, log + "x", Chunk("x"), 1), "seq not a number");
  ExpectClientError(Put(a, log + "99999999999999999999", Chunk("x"), 1), "seq too large");
  ExpectClientError(Put(a, log + "0", Chunk("x"), -1), "negative epoch");
  ExpectClientError(Signed(a, "PUT", log + "0", Chunk("x"), {{"Cuttle-Epoch", "abc"}}),
                    "bad epoch");
  ExpectClientError(Signed(a, "PUT", log + "0", Chunk("x")), "no epoch");
  ExpectClientError(Put(a, log + "0", std::string(agentwire::kMaxChunkBytes + 1, 'x'), 1),
                    "huge chunk");
  ExpectClientError(Put(b, log + "0", Chunk("x"), 1), "another agent's command");
  ExpectClientError(Signed(b, "POST", Path("/commands/" + id + "/claim")), "claim of another's");
  ExpectClientError(Signed(a, "POST", Path("/commands/%FF%FE/claim")), "non-UTF-8 command id");
  ExpectClientError(Put(a, Path("/commands/%FF%FE/log/0"), Chunk("x"), 1), "non-UTF-8 id chunk");
  ExpectClientError(Put(a, Path("/commands/%FF%FE/result"), ResultBody(-1), 1),
                    "non-UTF-8 id result");
  const std::string result = Path("/commands/" + id + "/result");
  ExpectClientError(Put(a, result, "[]", 1), "result not an object");
  ExpectClientError(Put(a, result, "{\"State\":\"bogus\"}", 1), "result bad state");
  ExpectClientError(
      Put(a, result, std::string("{\"State\":\"succeeded\",\"Message\":\"\xff\"}"), 1),
      "non-UTF-8 result");
  ExpectClientError(Put(a, result, "{\"State\":\"succeeded\",\"LastSeq\":-7}", 1),
                    "result negative last seq");
  ExpectClientError(Put(a, result, "{\"State\":\"succeeded\",\"LastSeq\":1e300}", 1),
                    "result float last seq");
  ExpectClientError(Signed(a, "GET", Path("/packages/Spaces-1/..%2F..%2Fetc/passwd")), "traversal");
  ExpectClientError(Signed(a, "GET", Path("/packages/Spaces-1/%FF/1.0")), "non-UTF-8 package");
  ExpectClientError(Signed(a, "GET", Path("/poll?wait=-1")), "negative wait");
  ExpectClientError(Signed(a, "GET", Path("/poll?wait=%FF")), "non-UTF-8 wait");
  {
    const int64_t now = core::ToUnixMillis(core::SystemClock::Instance().Now());
    const std::string header =
        agentwire::AuthorizationHeader("\xff\xfe", a.key, "GET", Path("/me"), now, "");
    ExpectClientError(Send(port(), "GET", Path("/me"), "", {{"Authorization", header}}),
                      "non-UTF-8 machine id");
  }
  // Nothing changed.
  EXPECT_EQ(State(id), "running");
  auto chunks =
      db_->Execute("SELECT COUNT(*) FROM agent_command_output WHERE command_id = $1", {id});
  ASSERT_TRUE(chunks);
  EXPECT_EQ(chunks->front().GetInt(0), 0);
  auto row = db_->Execute("SELECT epoch FROM agent_commands WHERE id = $1", {id});
  EXPECT_EQ(row->front().GetInt(0), 1);
}

}  // namespace
}  // namespace cuttle::agents
