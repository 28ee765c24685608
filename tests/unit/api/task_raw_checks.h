// GET /api/tasks/{id}/raw through its handler: the byte offset, and the `limit` the portal loads a
// big log with (whole lines inside the limit, the whole size still in X-Cuttle-Log-Size), for a
// log in shared storage and one recorded in the task row. Included by task_raw_test.cc (SQLite)
// and task_raw_pgtest.cc (PostgreSQL), which define NewRawDatabase.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "api/handlers.h"
#include "api/kit.h"
#include "cluster/node_registry.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "feed/package_store.h"
#include "repo/bootstrap.h"
#include "tasks/artifacts.h"
#include "tasks/task_log.h"
#include "tasks/task_queue.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::api {

std::unique_ptr<db::Database> NewRawDatabase(const testing::TempDir& dir);

namespace {

using nlohmann::json;

class TaskRawTest : public ::testing::Test {
 protected:
  TaskRawTest()
      : db_(NewRawDatabase(dir_)),
        registry_(*db_, clock_, {.node_name = "n1", .heartbeat_thread = false}),
        queue_(*db_),
        artifacts_(*db_, dir_.path().string() + "/artifacts"),
        packages_(*db_, dir_.path().string() + "/packages", 1 << 20),
        secrets_(crypto::MasterKey::Generate()),
        ctx_{*db_, registry_, options_, "install", queue_, artifacts_, packages_, secrets_} {
    options_.tasklogs_dir = dir_.path().string() + "/tasklogs";
    std::filesystem::create_directories(options_.tasklogs_dir);
    EXPECT_TRUE(repo::Bootstrap(*db_, "hash"));
    admin_ = {"Users-1", "admin", "Admin", "", false, true};
  }

  struct Answer {
    int status = 0;
    std::string body;  // the file's bytes when the log is streamed from storage
    std::string size;  // X-Cuttle-Log-Size
    std::string state;
  };

  Answer Raw(const std::string& id, const std::string& query) {
    http::Request req;
    req.target = "/api/tasks/" + id + "/raw" + (query.empty() ? "" : "?" + query);
    http::ParseTarget(req);
    req.params = {{"id", id}};
    req.principal = admin_;
    auto r = GetTaskRaw(ctx_, req);
    http::Response resp = r ? std::move(*r) : http::Response::FromError(r.error());
    Answer a;
    a.status = resp.status;
    a.body = resp.body;
    if (resp.file) {
      auto bytes = tasks::ReadLog(resp.file->path, resp.file->offset, resp.file->length);
      EXPECT_TRUE(bytes);
      EXPECT_EQ(bytes->size(), resp.file->length);
      a.body = *bytes;
    }
    for (const auto& [name, value] : resp.headers) {
      if (name == "X-Cuttle-Log-Size") a.size = value;
      if (name == "X-Cuttle-Task-State") a.state = value;
    }
    return a;
  }

  std::string NewTask() {
    tasks::NewTask n;
    n.name = "Deploy";
    n.description = "Deploy Web 1.0.0 to Dev";
    return queue_.Enqueue(n).value().id;
  }

  // A task whose log is a file in shared storage, as a running task's is.
  std::string WithFileLog(const std::string& text) {
    std::string id = NewTask();
    std::ofstream(tasks::TaskLogPath(options_.tasklogs_dir, id), std::ios::binary) << text;
    return id;
  }

  // A finished task whose short log was recorded in its row.
  std::string WithRecordedLog(const std::string& text) {
    std::string id = NewTask();
    auto c = queue_.Claim("n1").value().value();
    EXPECT_EQ(c.id, id);
    EXPECT_TRUE(queue_.Complete(tasks::Lease{c.id, "n1", c.claim_epoch}, tasks::TaskState::kSuccess,
                                "", false, text));
    return id;
  }

  // Reads a whole log in chunks of `limit` the way the portal does, checking each chunk ends a line
  // unless one line alone is longer than the limit.
  std::string ReadInChunks(const std::string& id, size_t limit, const std::string& whole) {
    std::string got;
    for (int guard = 0; guard < 1000 && got.size() < whole.size(); ++guard) {
      auto a = Raw(id, "offset=" + std::to_string(got.size()) + "&limit=" + std::to_string(limit));
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(a.size, std::to_string(whole.size()));
      EXPECT_LE(a.body.size(), limit);
      EXPECT_FALSE(a.body.empty());
      if (a.body.empty()) break;
      if (a.body.back() != '\n') {
        EXPECT_EQ(a.body.size(), limit) << "cut inside a line";
      }
      got += a.body;
    }
    return got;
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
  repo::UserRow admin_;
};

const std::string kLog =
    "2026-01-01T00:00:00.000Z Info      | one\n"
    "2026-01-01T00:00:00.001Z Info      | two two\n"
    "2026-01-01T00:00:00.002Z Verbose   | three three three\n";
const size_t kLine1 = kLog.find('\n') + 1;
const size_t kLine2 = kLog.find('\n', kLine1) + 1 - kLine1;

TEST_F(TaskRawTest, ALimitAnswersTheWholeLinesInsideItAndTheWholeSize) {
  for (bool recorded : {true, false}) {  // recorded first: Claim takes the oldest queued task
    SCOPED_TRACE(recorded ? "recorded in the row" : "file in shared storage");
    std::string id = recorded ? WithRecordedLog(kLog) : WithFileLog(kLog);
    const std::string size = std::to_string(kLog.size());

    auto a = Raw(id, "limit=" + std::to_string(kLine1 + kLine2 + 5));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.body, kLog.substr(0, kLine1 + kLine2));
    EXPECT_EQ(a.size, size);

    // Exactly at a line's end, the line is included.
    EXPECT_EQ(Raw(id, "limit=" + std::to_string(kLine1)).body, kLog.substr(0, kLine1));
    // From an offset, the limit counts from there.
    a = Raw(id, "offset=" + std::to_string(kLine1) + "&limit=" + std::to_string(kLine2 + 3));
    EXPECT_EQ(a.body, kLog.substr(kLine1, kLine2));
    EXPECT_EQ(a.size, size);
    // A limit past the end answers the rest, partial last line and all (nothing was cut).
    EXPECT_EQ(Raw(id, "offset=3&limit=100000").body, kLog.substr(3));
    EXPECT_EQ(Raw(id, "limit=100000").body, kLog);
    // Past the end: nothing, and still the size.
    a = Raw(id, "offset=100000&limit=10");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "");
    EXPECT_EQ(a.size, size);
  }
}

TEST_F(TaskRawTest, ALineLongerThanTheLimitIsAnsweredUpToTheLimit) {
  for (bool recorded : {true, false}) {  // recorded first: Claim takes the oldest queued task
    SCOPED_TRACE(recorded ? "recorded in the row" : "file in shared storage");
    std::string id = recorded ? WithRecordedLog(kLog) : WithFileLog(kLog);
    EXPECT_EQ(Raw(id, "limit=10").body, kLog.substr(0, 10));
    EXPECT_EQ(Raw(id, "offset=10&limit=7").body, kLog.substr(10, 7));
    // Reading on from where a cut line stopped finishes it.
    EXPECT_EQ(Raw(id, "offset=10&limit=" + std::to_string(kLine1 - 10 + 5)).body,
              kLog.substr(10, kLine1 - 10));
  }
}

TEST_F(TaskRawTest, ABigLogReadInChunksArrivesWholeAndOnce) {
  // Past the 64 KiB window the file is scanned backwards in, with lines of varying length.
  std::string big;
  for (int i = 0; i < 5000; ++i) {
    big += "2026-01-01T00:00:00.000Z Info      | line " + std::to_string(i) +
           std::string(static_cast<size_t>(i % 97), 'x') + "\n";
  }
  std::string id = WithFileLog(big);
  EXPECT_EQ(ReadInChunks(id, 64 * 1024 + 17, big), big);
  EXPECT_EQ(ReadInChunks(id, 1000, big), big);
  // One line longer than the whole window scan: up to the limit.
  std::string huge(200 * 1024, 'y');
  huge += "\nend\n";
  std::string huge_id = WithFileLog(huge);
  auto a = Raw(huge_id, "limit=150000");
  EXPECT_EQ(a.body.size(), 150000u);
  EXPECT_EQ(ReadInChunks(huge_id, 150000, huge), huge);
}

TEST_F(TaskRawTest, ABadLimitIsRefusedLikeABadOffset) {
  std::string id = WithFileLog(kLog);
  for (const std::string q : {"limit=0", "limit=-1", "limit=x", "limit=", "limit=1.5"}) {
    auto a = Raw(id, q);
    EXPECT_EQ(a.status, 400) << q;
    auto body = json::parse(a.body);
    EXPECT_EQ(body["ErrorMessage"], "The 'limit' parameter must be a positive integer.") << q;
  }
  EXPECT_EQ(Raw(id, "offset=-1&limit=5").status, 400);
  EXPECT_EQ(Raw(id, "").body, kLog);  // no limit: the whole log, as before
}

}  // namespace
}  // namespace cuttle::api
