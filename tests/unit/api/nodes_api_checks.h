// The nodes summary's ETag (issue 13: the portal's Nodes page polls it every second) and the audit
// log's documentTypes filter (the portal's Events page), through the HTTP interface of
// UsersApiTest's two nodes. Included after users_api_checks.h by
// users_api_test.cc (SQLite) and users_api_pgtest.cc (PostgreSQL).
#pragma once

#include "api/users_api_checks.h"

namespace cuttle::api {
namespace {

class NodesSummaryTest : public UsersApiTest {
 protected:
  void SetLastSeen(int64_t unix_ms) {
    ASSERT_TRUE(db_->Execute("UPDATE server_nodes SET last_seen = " + std::to_string(unix_ms)));
  }
  Reply Summary(const std::string& etag = "") {
    testing::HttpHeaders h = {{"X-Octopus-ApiKey", api_key_}};
    if (!etag.empty()) h.emplace_back("If-None-Match", etag);
    return Send(a_->server->port(), "GET", "/api/octopusservernodes/summary", "", h);
  }
};

TEST_F(NodesSummaryTest, AnswersNotModifiedWhileTheShownFieldsAreUnchanged) {
  ASSERT_TRUE(a_->registry.HeartbeatOnce());
  ASSERT_TRUE(b_->registry.HeartbeatOnce());
  SetLastSeen(1'700'000'000'123);
  auto first = Summary();
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string etag = first.Header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first.Header("Cache-Control"), "no-cache");
  ASSERT_EQ(first.Json()["Nodes"].size(), 2u);
  // Given to the second, as the page shows it.
  EXPECT_EQ(first.Json()["Nodes"][0]["LastSeen"], "2023-11-14T22:13:20.000+00:00");

  auto same = Summary(etag);
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.Header("ETag"), etag);
  EXPECT_EQ(Summary("\"something-else\"").status, 200);

  // A heartbeat within the same second changes nothing the page shows.
  SetLastSeen(1'700'000'000'987);
  EXPECT_EQ(Summary(etag).status, 304);

  // The next second does.
  SetLastSeen(1'700'000'001'004);
  auto later = Summary(etag);
  ASSERT_EQ(later.status, 200);
  EXPECT_NE(later.Header("ETag"), etag);
  const std::string etag2 = later.Header("ETag");
  EXPECT_EQ(Summary(etag2).status, 304);

  // So does any other shown field: a node's task cap.
  auto id = later.Json()["Nodes"][0].value("Id", "");
  auto put = WithKey(*a_, "PUT", "/api/octopusservernodes/" + id, {{"MaxConcurrentTasks", 3}});
  ASSERT_EQ(put.status, 200) << put.body;
  SetLastSeen(1'700'000'001'004);
  auto capped = Summary(etag2);
  EXPECT_EQ(capped.status, 200);
  EXPECT_NE(capped.Header("ETag"), etag2);
}

// The dashboard answers through the same TaggedAnswer.
TEST_F(UsersApiTest, TheDashboardStillAnswersNotModifiedToItsTag) {
  auto first = WithKey(*a_, "GET", "/api/dashboard");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string etag = first.Header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first.Header("Cache-Control"), "no-cache");
  auto again = Send(b_->server->port(), "GET", "/api/dashboard", "",
                    {{"X-Octopus-ApiKey", api_key_}, {"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.Header("ETag"), etag);
  ASSERT_EQ(WithKey(*a_, "POST", "/api/environments", {{"Name", "Prod"}}).status, 201);
  auto changed = Send(a_->server->port(), "GET", "/api/dashboard", "",
                      {{"X-Octopus-ApiKey", api_key_}, {"If-None-Match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.Header("ETag"), etag);
}

TEST_F(UsersApiTest, EventsAreFilteredByTheTypeOfTheirDocuments) {
  std::string id = CreateUser("frank", "frank's password");
  auto created = WithKey(*a_, "POST", "/api/users/" + id + "/apikeys", {{"Purpose", "x"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto users = WithKey(*a_, "GET", "/api/events?documentTypes=Users&eventCategories=Created");
  ASSERT_EQ(users.status, 200) << users.body;
  EXPECT_EQ(users.Json()["TotalResults"], 2);  // the user and its key (about the user too)
  auto keys = WithKey(*b_, "GET", "/api/events?documentTypes=apikeys,Projects");
  ASSERT_EQ(keys.status, 200) << keys.body;
  ASSERT_EQ(keys.Json()["TotalResults"], 1);
  EXPECT_EQ(keys.Json()["Items"][0]["Message"], "An API key was created for user frank.");
  // The lookup names the types, Octopus's /api/events/documenttypes.
  auto types = WithKey(*a_, "GET", "/api/events/documenttypes");
  ASSERT_EQ(types.status, 200) << types.body;
  bool users_listed = false;
  for (const auto& t : types.Json()) users_listed |= t.value("Id", "") == "Users";
  EXPECT_TRUE(users_listed) << types.body;
  auto bad = WithKey(*a_, "GET", "/api/events?documentTypes=Us_rs");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.Message().find("Us_rs"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace cuttle::api
