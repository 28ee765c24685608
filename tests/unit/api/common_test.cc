#include "api/common.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace cuttle::api {
namespace {

http::Request RequestFor(std::string target) {
  http::Request req;
  req.target = std::move(target);
  http::ParseTarget(req);
  return req;
}

TEST(PagingTest, PageCountDoesNotOverflowForAHugeTake) {
  // Bug: take=9223372036854775800 gave NumberOfPages -1 ((total + take - 1) overflowed).
  constexpr int64_t kHuge = 9223372036854775800;
  EXPECT_EQ(PageCount(3, kHuge), 1);
  EXPECT_EQ(PageCount(3, std::numeric_limits<int64_t>::max()), 1);
  EXPECT_EQ(PageCount(0, kHuge), 0);
  EXPECT_EQ(PageCount(10, 3), 4);
  EXPECT_EQ(PageCount(9, 3), 3);
  EXPECT_EQ(PageCount(5, 0), 0);
  auto paging = ReadPaging(RequestFor("/api/x?take=9223372036854775800"));
  ASSERT_TRUE(paging);
  json page = Collection("Thing", "/api/things", {json::object(), json::object()}, *paging);
  EXPECT_EQ(page["NumberOfPages"], 1);
  EXPECT_EQ(page["LastPageNumber"], 0);
  EXPECT_EQ(page["Items"].size(), 2u);
}

TEST(SelfLinkTest, NeverReflectsTheApiKey) {
  // Bug: ?apikey= was echoed back in Links.Self of /api/tasks.
  EXPECT_EQ(SelfLink(RequestFor("/api/tasks?skip=0&apikey=API-SECRET&take=5")),
            "/api/tasks?skip=0&take=5");
  EXPECT_EQ(SelfLink(RequestFor("/api/tasks?ApiKey=API-SECRET")), "/api/tasks");
  EXPECT_EQ(SelfLink(RequestFor("/api/tasks?%61pikey=API-SECRET&states=Queued")),
            "/api/tasks?states=Queued");
  EXPECT_EQ(SelfLink(RequestFor("/api/tasks")), "/api/tasks");
}

TEST(ParseJsonObjectTest, RefusesDeepNestingAndSaysWhy) {
  // Bug: a body nested 100,000 deep on POST /api/tasks crashed the node.
  http::Request req;
  req.body = "{\"Name\":\"Noop\",\"Arguments\":{\"a\":" + std::string(100000, '[') +
             std::string(100000, ']') + "}}";
  auto body = ParseJsonObject(req);
  ASSERT_FALSE(body);
  EXPECT_EQ(http::Response::StatusFor(body.error().code()), 400);
  EXPECT_NE(body.error().message().find("nested more than 64 levels"), std::string::npos);
  req.body = "[1]";
  EXPECT_FALSE(ParseJsonObject(req));
  req.body = R"({"Name":"Noop"})";
  EXPECT_TRUE(ParseJsonObject(req));
}

}  // namespace
}  // namespace cuttle::api
