// A deployment run against a real database (SQLite or PostgreSQL) and real bash/python, through a
// TaskExecution of the test's own: the test claims the task itself, so it chooses the claim epoch
// (adoption), the moment of cancellation and when a parked task is claimed again.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "crypto/crypto.h"
#include "crypto/secret_box.h"
#include "deploy/orchestrator.h"
#include "deploy/units.h"
#include "tasks/task_log.h"
#include "tasks/task_queue.h"
#include "tasks/work_dir.h"
#include "testing/temp_dir.h"
#include "testing/test_db.h"

namespace cuttle::deploy::testing {

using nlohmann::json;

// The runner's part, played by the test.
class FakeExecution : public tasks::TaskExecution {
 public:
  // `may_write` as the runner's: false once the node may no longer write the task's log (the
  // default: always true).
  FakeExecution(
      tasks::Task task, std::string log_path, std::string work_root, std::string node,
      std::function<bool()> may_write = [] { return true; })
      : task_(std::move(task)),
        lease_{task_.id, node, task_.claim_epoch},
        node_(std::move(node)),
        log_(std::move(log_path), std::move(may_write)),
        work_root_(std::move(work_root)) {}

  const tasks::Task& task() const override { return task_; }
  const tasks::Lease& lease() const override { return lease_; }
  const std::string& node_name() const override { return node_; }
  tasks::TaskLogWriter& log() override { return log_; }
  bool StartWork() override { return true; }
  tasks::TaskOutcome RunScript(const tasks::ScriptStep&) override { return {}; }
  std::string StopReason() override {
    std::lock_guard lock(mu_);
    if (stop_when_ && stop_when_()) return "canceled";
    return stop_;
  }
  Result<std::string> CreateWorkDir() override {
    return tasks::CreateTaskDir(work_root_, task_.id);
  }
  std::string CollectArtifacts(const std::string&,
                               const std::vector<engine::ArtifactRequest>& requests) override {
    collected_ += requests.size();
    return "";
  }

  void SetStop(std::string why) {
    std::lock_guard lock(mu_);
    stop_ = std::move(why);
  }
  // Answers "canceled" once `when` says so (asked from the units' polling).
  void CancelWhen(std::function<bool()> when) {
    std::lock_guard lock(mu_);
    stop_when_ = std::move(when);
  }
  size_t collected() const { return collected_; }

 private:
  tasks::Task task_;
  tasks::Lease lease_;
  std::string node_;
  tasks::TaskLogWriter log_;
  std::string work_root_;
  std::mutex mu_;
  std::string stop_;
  std::function<bool()> stop_when_;
  std::atomic<size_t> collected_{0};
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline json ScriptAction(const std::string& name, const std::string& body,
                         const std::string& syntax = "Bash", json extra = json::object()) {
  json props = {{"Octopus.Action.Script.ScriptSource", "Inline"},
                {"Octopus.Action.Script.Syntax", syntax},
                {"Octopus.Action.Script.ScriptBody", body}};
  props.update(extra);
  return {{"Id", std::string("act-") + name},
          {"Name", name},
          {"ActionType", "Octopus.Script"},
          {"Properties", props}};
}

// A step of one action; roles "" runs it on the built-in worker.
inline json Step(const std::string& name, json action, const std::string& roles = "",
                 const std::string& condition = "Success") {
  return {{"Id", std::string("step-") + name},
          {"Name", name},
          {"Condition", condition},
          {"StartTrigger", "StartAfterPrevious"},
          {"Properties", {{"Octopus.Action.TargetRoles", roles}}},
          {"Actions", json::array({std::move(action)})}};
}

class DeployTest : public ::testing::Test {
 public:  // the cases' helper functions use the fixture too
  // `db` comes from the derived fixture (SQLite or PostgreSQL).
  void Init(std::unique_ptr<db::Database> db) {
    db_ = std::move(db);
    queue_ = std::make_unique<tasks::TaskQueue>(*db_);
    std::filesystem::create_directories(dir_.Sub("tasklogs"));
    std::filesystem::create_directories(dir_.Sub("work"));
    crypto::MasterKey key = crypto::MasterKey::Generate();
    secrets_ = std::make_unique<crypto::SecretBox>(key);
    options_.db = db_.get();
    options_.secrets = secrets_.get();
    options_.tasklogs_dir = dir_.Sub("tasklogs");
    options_.worker_home = dir_.Sub("work/worker");
    options_.script_timeout = std::chrono::seconds(60);
    input_.space_id = "Spaces-1";
    input_.what = "release 1.0.0";
    input_.document_id = "Deployments-1";
    input_.request.environment_id = "Environments-1";
    input_.request.environment_name = "Dev";
    input_.request.process_owner_id = "Projects-1";
    input_.facts.environment_id = "Environments-1";
    input_.facts.environment_name = "Dev";
    input_.facts.project_name = "Acme";
    input_.facts.release_number = "1.0.0";
    input_.facts.deployment_id = "Deployments-1";
    engine::CandidateMachine web;
    web.id = "Machines-1";
    web.name = "web-1";
    web.roles = {"web"};
    web.environment_ids = {"Environments-1"};
    web.health = engine::HealthStatus::kHealthy;
    web.communication_style = "None";
    input_.machines.push_back(web);
    task_ = queue_->Enqueue(NewDeployTask()).value();
  }

  tasks::NewTask NewDeployTask() {
    tasks::NewTask t;
    t.name = "Deploy";
    t.idempotent = true;
    t.arguments = {{"DeploymentId", "Deployments-1"}};
    return t;
  }

  // Claims the task under `node` (a new epoch each time).
  std::unique_ptr<FakeExecution> Claim(const std::string& node = "node-a") {
    auto claimed = queue_->Claim(node);
    EXPECT_TRUE(claimed && *claimed) << (claimed ? "nothing to claim" : claimed.error().message());
    if (!claimed || !*claimed) return nullptr;
    return std::make_unique<FakeExecution>(
        **claimed, tasks::TaskLogPath(dir_.Sub("tasklogs"), task_.id), dir_.Sub("work"), node);
  }

  // The same, its log writable only while the claim's lease holds (as the runner's, which refuses
  // lines once the task is no longer the node's: parked, lost, fenced).
  std::unique_ptr<FakeExecution> ClaimFenced(const std::string& node = "node-a") {
    auto claimed = queue_->Claim(node);
    EXPECT_TRUE(claimed && *claimed) << (claimed ? "nothing to claim" : claimed.error().message());
    if (!claimed || !*claimed) return nullptr;
    const tasks::Lease lease{(*claimed)->id, node, (*claimed)->claim_epoch};
    tasks::TaskQueue* queue = queue_.get();
    return std::make_unique<FakeExecution>(**claimed,
                                           tasks::TaskLogPath(dir_.Sub("tasklogs"), task_.id),
                                           dir_.Sub("work"), node, [queue, lease] {
                                             auto held = queue->Held({lease});
                                             return held && !held->empty();
                                           });
  }

  tasks::TaskOutcome Run(FakeExecution& x) {
    auto outcome = RunDeployment(x, input_, options_);
    (void)x.log().Flush();
    return outcome;
  }

  std::string Log() { return ReadAll(tasks::TaskLogPath(dir_.Sub("tasklogs"), task_.id)); }

  std::map<std::string, UnitRow> Units() {
    std::map<std::string, UnitRow> out;
    auto units = UnitsOfTask(*db_, task_.id).value();
    for (auto& u : units) out.emplace(u.unit_key, u);
    return out;
  }

  // The node died: the dead-node policy queues the task again (it is resumable).
  void Orphan() {
    auto t = queue_->Get(task_.id).value();
    ASSERT_TRUE(t);
    ASSERT_TRUE(queue_->ResolveOrphan(*t, "node lost").value());
  }

  ::cuttle::testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<tasks::TaskQueue> queue_;
  std::unique_ptr<crypto::SecretBox> secrets_;
  OrchestratorOptions options_;
  DeploymentInput input_;
  tasks::Task task_;
};

}  // namespace cuttle::deploy::testing
