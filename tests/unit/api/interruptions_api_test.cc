// The interruptions routes and the task side of parking, through the handlers on SQLite with a
// real interruption raised and parked (deploy::RaiseAndPark, the orchestrator's call): listing by
// regarding, responsibility, validation and conflicts, the audit event, a parked task's JSON, the
// hasPendingInterruptions filter, cancel closing the prompt, and /details reading unit logs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/handlers.h"
#include "api/kit.h"
#include "cluster/node_registry.h"
#include "core/strings.h"
#include "crypto/crypto.h"
#include "deploy/interruptions.h"
#include "deploy/units.h"
#include "feed/package_store.h"
#include "repo/bootstrap.h"
#include "tasks/artifacts.h"
#include "tasks/task_log.h"
#include "testing/fake_clock.h"
#include "testing/test_db.h"

namespace cuttle::api {
namespace {

using nlohmann::json;

class InterruptionsApiTest : public ::testing::Test {
 protected:
  InterruptionsApiTest()
      : db_(testing::NewSqlite(dir_)),
        registry_(*db_, clock_, {.node_name = "n1", .heartbeat_thread = false}),
        queue_(*db_),
        artifacts_(*db_, dir_.path().string() + "/artifacts"),
        packages_(*db_, dir_.path().string() + "/packages", 1 << 20),
        secrets_(crypto::MasterKey::Generate()),
        ctx_{*db_, registry_, options_, "install", queue_, artifacts_, packages_, secrets_} {
    options_.tasklogs_dir = dir_.path().string() + "/tasklogs";
    std::filesystem::create_directories(options_.tasklogs_dir);
    EXPECT_TRUE(repo::Bootstrap(*db_, "hash"));
    EXPECT_TRUE(
        db_->Execute("INSERT INTO users (id, username, display_name, created_at) VALUES "
                     "('Users-2', 'bob', 'Bob', 1)"));
    alice_ = {"Users-1", "admin", "Admin", "", false, true};
    bob_ = {"Users-2", "bob", "Bob", "", false, true};
  }

  http::Response Call(KitHandler h, const std::string& target, const repo::UserRow& user,
                      std::map<std::string, std::string> params = {}, std::string body = "") {
    http::Request req;
    req.target = target;
    http::ParseTarget(req);
    req.params = std::move(params);
    req.body = std::move(body);
    req.principal = user;
    auto r = h(ctx_, req);
    return r ? std::move(*r) : http::Response::FromError(r.error());
  }
  static json Body(const http::Response& r) { return json::parse(r.body); }

  // A Deploy task claimed by n1 and parked on an interruption about its unit.
  std::pair<std::string, deploy::Interruption> Parked(deploy::InterruptionType type, json details,
                                                      std::string tag) {
    tasks::NewTask n;
    n.name = "Deploy";
    n.description = "Deploy Web 1.0.0 to Dev";
    n.concurrency_tag = std::move(tag);
    auto t = queue_.Enqueue(n).value();
    auto c = queue_.Claim("n1").value().value();
    EXPECT_EQ(c.id, t.id);
    deploy::NewInterruption i;
    i.space_id = "Spaces-1";
    i.task_id = t.id;
    i.unit_key = "1/Actions-1/worker";
    i.type = type;
    i.title = "Approve";
    i.details = std::move(details);
    auto raised = deploy::RaiseAndPark(*db_, tasks::Lease{c.id, "n1", c.claim_epoch}, i);
    EXPECT_TRUE(raised) << raised.error().message();
    return {t.id, *raised};
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
  ApiContext ctx_;
  repo::UserRow alice_, bob_;
};

TEST_F(InterruptionsApiTest, AManualInterventionIsListedTakenAndAnsweredOnce) {
  auto [task, raised] = Parked(
      deploy::InterruptionType::kManualIntervention,
      {{"Instructions", "Check it"}, {"RelatedDocumentIds", {"Deployments-7", "Projects-1"}}}, "A");
  ASSERT_TRUE(db_->Execute(
      "INSERT INTO deployments (id, seq, space_id, project_id, environment_id, release_id, "
      "channel_id, task_id, created) VALUES ('Deployments-7', 7, 'Spaces-1', 'Projects-1', "
      "'Environments-1', 'Releases-1', 'Channels-1', $1, 1)",
      {task}));
  const std::map<std::string, std::string> space = {{"spaceId", "Spaces-1"}};
  for (const std::string& q : std::vector<std::string>{
           "regarding=Deployments-7", std::string("regarding=") + task, "pendingOnly=true",
           "regarding=deployments-7&pendingOnly=True", ""}) {
    auto r =
        Call(ListInterruptions, std::string("/api/Spaces-1/interruptions?") + q, alice_, space);
    ASSERT_EQ(r.status, 200) << q << ": " << r.body;
    ASSERT_EQ(Body(r)["TotalResults"], 1) << q;
    EXPECT_EQ(Body(r)["Items"][0]["Id"], raised.id);
  }
  for (const std::string q :
       {"regarding=Deployments-8", "regarding=ServerTasks-99", "regarding=Projects-1"}) {
    auto r =
        Call(ListInterruptions, std::string("/api/Spaces-1/interruptions?") + q, alice_, space);
    EXPECT_EQ(Body(r)["TotalResults"], 0) << q;
  }

  // The parked task: Executing, waiting, found by the filter.
  auto t = Body(Call(GetTask, std::string("/api/tasks/") + task, alice_, {{"id", task}}));
  EXPECT_EQ(t["State"], "Executing");
  EXPECT_EQ(t["HasPendingInterruptions"], true);
  EXPECT_EQ(t["PendingInterruptionTypes"], json({"ManualIntervention"}));
  auto waiting = Body(Call(ListTasks, "/api/tasks?hasPendingInterruptions=true", alice_));
  ASSERT_EQ(waiting["TotalResults"], 1);
  EXPECT_EQ(waiting["Items"][0]["HasPendingInterruptions"], true);
  auto executing = Body(Call(ListTasks, "/api/tasks?states=Executing", alice_));
  EXPECT_EQ(executing["TotalResults"], 1);

  std::map<std::string, std::string> one = {{"spaceId", "Spaces-1"}, {"id", raised.id}};
  auto nobody = Call(GetInterruptionResponsible, "/x", alice_, one);
  EXPECT_EQ(nobody.status, 404);
  auto taken = Call(TakeInterruptionResponsibility, "/x", alice_, one);
  ASSERT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(Body(taken)["Id"], "Users-1");
  EXPECT_EQ(Body(Call(GetInterruptionResponsible, "/x", bob_, one))["Username"], "admin");
  EXPECT_EQ(Body(Call(GetInterruption, "/x", alice_, one))["HasResponsibility"], true);
  EXPECT_EQ(Body(Call(GetInterruption, "/x", bob_, one))["HasResponsibility"], false);

  auto not_bobs = Call(SubmitInterruption, "/x", bob_, one, R"({"Result":"Proceed"})");
  EXPECT_EQ(not_bobs.status, 409) << not_bobs.body;
  auto bad = Call(SubmitInterruption, "/x", alice_, one, R"({"Result":"Later"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  auto not_json = Call(SubmitInterruption, "/x", alice_, one, "Proceed");
  EXPECT_EQ(not_json.status, 400) << not_json.body;
  EXPECT_EQ(Body(Call(GetTask, std::string("/api/tasks/") + task, alice_, {{"id", task}}))["State"],
            "Executing")
      << "a refused answer changes nothing";

  auto ok = Call(SubmitInterruption, "/x", alice_, one,
                 R"({"Instructions":null,"Notes":"fine","Result":"Proceed"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["IsPending"], false);
  EXPECT_EQ(Body(ok)["Form"]["Values"]["Result"], "Proceed");
  EXPECT_EQ(Body(ok)["Form"]["Values"]["Notes"], "fine");
  auto again = Call(SubmitInterruption, "/x", alice_, one, R"({"Result":"Abort"})");
  EXPECT_EQ(again.status, 409);
  auto events =
      db_->Execute("SELECT COUNT(*) FROM events WHERE category = 'InterruptionSubmitted'").value();
  EXPECT_EQ(events.front().GetInt(0), 1);

  // Un-parked: Queued until a node claims it; nothing pending.
  t = Body(Call(GetTask, std::string("/api/tasks/") + task, alice_, {{"id", task}}));
  EXPECT_EQ(t["State"], "Queued");
  EXPECT_EQ(t["HasPendingInterruptions"], false);
  auto pending =
      Call(ListInterruptions, "/api/Spaces-1/interruptions?pendingOnly=true", alice_, space);
  EXPECT_EQ(Body(pending)["TotalResults"], 0);
  // Another space does not see it.
  auto other = Call(GetInterruption, "/x", alice_, {{"spaceId", "Spaces-2"}, {"id", raised.id}});
  EXPECT_EQ(other.status, 404);
}

TEST_F(InterruptionsApiTest, CancellingAParkedDeploymentClosesItsPrompt) {
  auto [task, raised] =
      Parked(deploy::InterruptionType::kGuidedFailure, {{"CanIgnore", true}}, "B");
  auto canceled =
      Call(CancelTask, std::string("/api/tasks/") + task + "/cancel", alice_, {{"id", task}});
  ASSERT_EQ(canceled.status, 200) << canceled.body;
  EXPECT_EQ(Body(canceled)["State"], "Canceled");
  EXPECT_EQ(Body(canceled)["HasPendingInterruptions"], false);
  std::map<std::string, std::string> one = {{"spaceId", "Spaces-1"}, {"id", raised.id}};
  EXPECT_EQ(Body(Call(GetInterruption, "/x", alice_, one))["IsPending"], false);
  auto late = Call(SubmitInterruption, "/x", alice_, one, R"({"Guidance":"Retry"})");
  EXPECT_EQ(late.status, 409) << late.body;
}

TEST_F(InterruptionsApiTest, DetailsOfADeploymentReadEachUnitsLog) {
  auto [task, raised] = Parked(deploy::InterruptionType::kManualIntervention, json::object(), "C");
  ASSERT_TRUE(db_->Execute(
      "INSERT INTO deployment_units (task_id, unit_key, ordinal, step_number, step_name, "
      "action_id, action_name, state, started, ended) VALUES ($1, '1/Actions-1/worker', 0, 1, "
      "'Build', 'Actions-1', 'Build', 'Succeeded', 1800000000000, 1800000001000), ($1, "
      "'2/Actions-2/worker', 1, 2, 'Approve', 'Actions-2', 'Approve', 'Waiting', 1800000002000, "
      "NULL)",
      {task}));
  const std::string line = "2027-01-15T08:00:00.500+00:00 Info      | built\n";
  std::filesystem::create_directories(options_.tasklogs_dir + "/" + core::ToLower(task) + ".units");
  std::ofstream(deploy::UnitLogPath(options_.tasklogs_dir, task, 0)) << line;
  std::ofstream(tasks::TaskLogPath(options_.tasklogs_dir, task))
      << "2027-01-15T08:00:00.100+00:00 Info      | Deploying\n"
      << line;
  auto r =
      Call(GetTaskDetails, std::string("/api/tasks/") + task + "/details", alice_, {{"id", task}});
  ASSERT_EQ(r.status, 200) << r.body;
  json d = Body(r);
  EXPECT_EQ(d["Task"]["HasPendingInterruptions"], true);
  const json& root = d["ActivityLogs"][0];
  EXPECT_EQ(root["Status"], "Running");
  ASSERT_EQ(root["LogElements"].size(), 1u);
  EXPECT_EQ(root["LogElements"][0]["MessageText"], "Deploying");
  ASSERT_EQ(root["Children"].size(), 2u);
  EXPECT_EQ(root["Children"][0]["Name"], "Step 1: Build");
  EXPECT_EQ(root["Children"][0]["Status"], "Success");
  EXPECT_EQ(root["Children"][0]["Children"][0]["LogElements"][0]["MessageText"], "built");
  EXPECT_EQ(root["Children"][1]["Status"], "Running");
  EXPECT_EQ(d["Progress"]["ProgressPercentage"], 50);
}

}  // namespace
}  // namespace cuttle::api
