#include "api/kit.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace cuttle::api {
namespace {

using nlohmann::json;

http::Request RequestFor(std::string target) {
  http::Request req;
  req.target = std::move(target);
  http::ParseTarget(req);
  return req;
}

TEST(BinderTest, CollectsEveryProblemIntoOneError) {
  json body = {{"name", "  "}, {"SortOrder", "three"}, {"UseGuidedFailure", "yes"}};
  Binder b(body);
  b.RequiredString("Name");
  b.RequiredString("Description");
  b.Int("SortOrder");
  b.Bool("UseGuidedFailure");
  auto done = b.Finish("environment");
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      done.error().details(),
      (std::vector<std::string>{"The Name field is required.", "The Description field is required.",
                                "The SortOrder field must be an integer.",
                                "The UseGuidedFailure field must be true or false."}));
  EXPECT_EQ(done.error().message(),
            "The environment could not be saved: The Name field is required. (and 3 more "
            "problems)");
  auto response = http::Response::FromError(done.error());
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["Errors"].size(), 4u);
}

TEST(BinderTest, ReadsCamelCaseAndPropertyBagBooleans) {
  json body = {{"name", " Production "},
               {"useGuidedFailure", "True"},
               {"sortOrder", 7},
               {"roles", {"web", "db"}},
               {"kind", "none"}};
  Binder b(body);
  EXPECT_EQ(b.RequiredString("Name"), "Production");
  EXPECT_TRUE(b.Bool("UseGuidedFailure"));
  EXPECT_EQ(b.Int("SortOrder"), 7);
  EXPECT_EQ(b.StringList("Roles"), (std::vector<std::string>{"web", "db"}));
  EXPECT_EQ(b.Enum("Kind", {"None", "TentacleActive"}, "None"), "None");
  EXPECT_FALSE(b.Has("Description"));
  EXPECT_TRUE(b.Finish("machine"));
}

TEST(BinderTest, RefusesAValueOutsideAnEnum) {
  json body = {{"Condition", "Sometimes"}};
  Binder b(body);
  EXPECT_EQ(b.Enum("Condition", {"Success", "Failure", "Always", "Variable"}, "Success"),
            "Success");
  auto done = b.Finish("step");
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().details().front(),
            "The Condition field must be one of Success, Failure, Always, Variable.");
}

TEST(CollectionJsonTest, LinksEveryPageAndNeverOverflows) {
  repo::PageQuery q;
  q.skip = 30;
  q.take = 30;
  json page = CollectionJson("Environment", "/api/Spaces-1/environments", json::array(), 95, q);
  EXPECT_EQ(page["TotalResults"], 95);
  EXPECT_EQ(page["NumberOfPages"], 4);
  EXPECT_EQ(page["LastPageNumber"], 3);
  EXPECT_EQ(page["Links"]["Page.Next"], "/api/Spaces-1/environments?skip=60&take=30");
  EXPECT_EQ(page["Links"]["Page.Last"], "/api/Spaces-1/environments?skip=90&take=30");

  q.skip = 0;
  q.take = INT64_MAX;
  page = CollectionJson("Environment", "/api/environments", json::array(), 3, q);
  EXPECT_EQ(page["NumberOfPages"], 1);
  EXPECT_FALSE(page["Links"].contains("Page.Next"));
}

TEST(ListParamsTest, ReadsTheCommonFiltersAndRefusesBadNumbers) {
  auto q = ReadListParams(RequestFor("/api/x?skip=5&take=2&ids=A-1,b-2&partialName=pro"));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->skip, 5);
  EXPECT_EQ(q->take, 2);
  EXPECT_EQ(*q->ids, (std::vector<std::string>{"A-1", "b-2"}));
  EXPECT_EQ(*q->partial_name, "pro");
  EXPECT_FALSE(ReadListParams(RequestFor("/api/x?take=-1")));
  EXPECT_FALSE(ReadListParams(RequestFor("/api/x?skip=ten")));
}

TEST(AuthorizeTest, AnActiveUserHoldsEveryPermissionToday) {
  repo::UserRow admin;
  admin.id = "Users-1";
  EXPECT_TRUE(Authorize(admin, Permission::kProjectEdit, "Spaces-1"));
  admin.is_active = false;
  auto refused = Authorize(admin, Permission::kProjectEdit, "Spaces-1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("ProjectEdit"), std::string::npos);
}

}  // namespace
}  // namespace cuttle::api
