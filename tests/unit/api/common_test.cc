#include "api/common.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "api/kit.h"

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
  auto q = ReadListParams(RequestFor("/api/x?take=9223372036854775800"));
  ASSERT_TRUE(q);
  json page = CollectionJson("Thing", "/api/things", {json::object(), json::object()}, 2, *q);
  EXPECT_EQ(page["NumberOfPages"], 1);
  EXPECT_EQ(page["LastPageNumber"], 0);
  EXPECT_EQ(page["Items"].size(), 2u);
  EXPECT_FALSE(page["Links"].contains("Page.Next"));
}

TEST(ReadListParamsTest, RefusesNegativeOrNonNumericPaging) {
  EXPECT_FALSE(ReadListParams(RequestFor("/api/x?skip=-1")));
  EXPECT_FALSE(ReadListParams(RequestFor("/api/x?take=ten")));
  auto q = ReadListParams(RequestFor("/api/x?skip=5&take=0&ids=A-1,a-2&partialName=50%25_x"));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->skip, 5);
  EXPECT_EQ(q->take, 0);
  EXPECT_EQ(*q->ids, (std::vector<std::string>{"A-1", "a-2"}));
  EXPECT_EQ(*q->partial_name, "50%_x");
}

TEST(CollectionJsonTest, NeverReflectsTheApiKey) {
  // Bug: ?apikey= was echoed back in Links.Self of /api/tasks. The links are built from the path
  // and the page alone.
  auto req = RequestFor("/api/tasks?skip=0&apikey=API-SECRET&take=5");
  auto q = ReadListParams(req);
  ASSERT_TRUE(q);
  json page = CollectionJson("Task", req.path, json::array(), 0, *q);
  EXPECT_EQ(page["Links"]["Self"], "/api/tasks?skip=0&take=5");
  EXPECT_EQ(page.dump().find("API-SECRET"), std::string::npos);
}

TEST(ReadBodyTest, RefusesDeepNestingAndSaysWhy) {
  // Bug: a body nested 100,000 deep on POST /api/tasks crashed the node.
  http::Request req;
  req.body = "{\"Name\":\"Noop\",\"Arguments\":{\"a\":" + std::string(100000, '[') +
             std::string(100000, ']') + "}}";
  auto body = ReadBody(req);
  ASSERT_FALSE(body);
  EXPECT_EQ(http::Response::StatusFor(body.error().code()), 400);
  EXPECT_NE(body.error().message().find("nested more than 64 levels"), std::string::npos);
  req.body = "[1]";
  EXPECT_FALSE(ReadBody(req));
  req.body = R"({"Name":"Noop"})";
  EXPECT_TRUE(ReadBody(req));
}

}  // namespace
}  // namespace cuttle::api
