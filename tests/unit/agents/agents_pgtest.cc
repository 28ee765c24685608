// The agent protocol on PostgreSQL (agent_protocol_checks.h has the suite), and two nodes on one
// database: a nonce used on one is refused on the other, NOTIFY wakes a poll held by the other,
// an offer is made once, and a command's writes may go through either node.
#include "testing/test_db.h"

namespace cuttle::agents {
namespace {
std::string last_url;  // the database NewProtocolDatabase made last, for a second node
}  // namespace

std::unique_ptr<db::Database> NewProtocolDatabase(const testing::TempDir&) {
  last_url = testing::NewPostgresDatabase();
  return testing::OpenMigrated(last_url);
}
}  // namespace cuttle::agents

#include "agents/agent_protocol_checks.h"

namespace cuttle::agents {
namespace {

// A second node on the fixture's database.
struct SecondNode {
  explicit SecondNode(AgentProtocolTest::Parts parts)
      : db(testing::OpenMigrated(last_url)),
        registry(*db, parts.clock, {.node_name = "n2", .heartbeat_thread = false}),
        queue(*db),
        artifacts(*db, parts.dir + "/artifacts"),
        packages(*db, parts.dir + "/packages", 64 << 20),
        ctx{*db, registry, parts.options, "install", queue, artifacts, packages, parts.secrets} {
    HubOptions hub;
    hub.node_name = "n2";
    service = std::make_unique<AgentService>(*db, parts.secrets, packages, hub);
    ctx.agents = service.get();
    http::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.log_requests = false;
    server = std::make_unique<http::Server>(o, api::BuildRouter(ctx));
    EXPECT_TRUE(server->Start());
    service->Start();
  }
  ~SecondNode() {
    service->Stop();
    server->Shutdown(std::chrono::seconds(1));
  }
  uint16_t port() const { return server->port(); }

  std::unique_ptr<db::Database> db;
  cluster::NodeRegistry registry;
  tasks::TaskQueue queue;
  tasks::ArtifactStore artifacts;
  feed::PackageStore packages;
  api::ApiContext ctx;
  std::unique_ptr<AgentService> service;
  std::unique_ptr<http::Server> server;
};

TEST_F(AgentProtocolTest, TwoNodesShareNoncesOffersWakeUpsAndCommands) {
  SecondNode n2(parts());
  Agent a = NewAgent("a");  // through node 1

  // A nonce used on node 1 is refused on node 2.
  const int64_t now = core::ToUnixMillis(core::SystemClock::Instance().Now());
  auto header = agentwire::AuthorizationHeader(a.id, a.key, "GET", Path("/me"), now, "");
  EXPECT_EQ(Send(port(), "GET", Path("/me"), "", {{"Authorization", header}}).status, 200);
  EXPECT_EQ(Send(n2.port(), "GET", Path("/me"), "", {{"Authorization", header}}).status, 401);

  // A poll held by node 2 is woken by a command node 1's database queued (NOTIFY crosses nodes).
  auto poll = std::async(std::launch::async,
                         [&] { return SignedTo(n2.port(), a, "GET", Path("/poll?wait=20")); });
  for (int i = 0; i < 200 && n2.service->hub().held() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(n2.service->hub().held(), 1u);
  const auto queued_at = SteadyClock::now();
  const std::string id = Queue(a);
  auto r = poll.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["Offers"][0]["CommandId"], id);
  EXPECT_LT(SteadyClock::now() - queued_at, 10s);  // woken, not the poll's own 20 s wait
  // Offered once, whichever node the next polls reach.
  EXPECT_EQ(Signed(a, "GET", Path("/poll?wait=0")).status, 204);
  EXPECT_EQ(SignedTo(n2.port(), a, "GET", Path("/poll?wait=0")).status, 204);

  // Claimed through node 2, a chunk through node 1 and again through node 2, the result through
  // node 2.
  auto claim = SignedTo(n2.port(), a, "POST", Path("/commands/" + id + "/claim"));
  ASSERT_EQ(claim.status, 200) << claim.body;
  EXPECT_EQ(claim.Json()["Epoch"], 1);
  const std::string log0 = Path("/commands/" + id + "/log/0");
  EXPECT_EQ(Put(a, log0, Chunk("one"), 1).status, 201);
  EXPECT_EQ(SignedTo(n2.port(), a, "PUT", log0, Chunk("one"), {{"Cuttle-Epoch", "1"}}).status, 200);
  auto done = SignedTo(n2.port(), a, "PUT", Path("/commands/" + id + "/result"), ResultBody(0),
                       {{"Cuttle-Epoch", "1"}});
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(State(id), "succeeded");
}

// Two nodes offering the same agent's commands at once never both offer one.
TEST_F(AgentProtocolTest, ConcurrentPollsOnTwoNodesNeverGetTheSameOffer) {
  SecondNode n2(parts());
  Agent a = NewAgent("a");
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(Queue(a));
  std::vector<std::future<Reply>> polls;
  for (int i = 0; i < 6; ++i) {
    const uint16_t to = i % 2 ? n2.port() : port();
    polls.push_back(std::async(std::launch::async,
                               [&, to] { return SignedTo(to, a, "GET", Path("/poll?wait=0")); }));
  }
  std::multiset<std::string> offered;
  for (auto& p : polls) {
    auto r = p.get();
    if (r.status != 200) {
      EXPECT_EQ(r.status, 204) << r.body;
      continue;
    }
    const json body = r.Json();
    for (const auto& o : body["Offers"]) offered.insert(o["CommandId"].get<std::string>());
  }
  EXPECT_EQ(offered.size(), ids.size());
  for (const auto& id : ids) EXPECT_EQ(offered.count(id), 1u) << id;
}

}  // namespace
}  // namespace cuttle::agents
