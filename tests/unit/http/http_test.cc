#include "http/http.h"

#include <gtest/gtest.h>

namespace cuttle::http {
namespace {

TEST(LessIgnoreCaseTest, OrdersWithoutCase) {
  LessIgnoreCase less;
  EXPECT_FALSE(less("Content-Type", "content-type"));
  EXPECT_FALSE(less("content-type", "Content-Type"));
  EXPECT_TRUE(less("Accept", "content-type"));
  EXPECT_TRUE(less("a", "AB"));
}

TEST(RequestTest, HeaderAndQueryAreCaseInsensitiveParamIsNot) {
  Request req;
  req.headers["X-Octopus-ApiKey"] = "API-1";
  req.query["Skip"] = "10";
  req.params["id"] = "Projects-1";
  EXPECT_EQ(req.Header("x-octopus-apikey"), "API-1");
  EXPECT_EQ(req.Header("missing"), std::nullopt);
  EXPECT_EQ(req.Query("skip"), "10");
  EXPECT_EQ(req.Query("take"), std::nullopt);
  EXPECT_EQ(req.Param("id"), "Projects-1");
  EXPECT_EQ(req.Param("ID"), "");
}

TEST(ResponseTest, ErrorHasOctopusShape) {
  auto r = Response::Error(400, "Bad thing", {"one", "two"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"ErrorMessage":"Bad thing","Errors":["one","two"]})");
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");

  auto empty = Response::Error(404, "Nope");
  auto j = nlohmann::json::parse(empty.body);
  EXPECT_EQ(j["ErrorMessage"], "Nope");
  ASSERT_TRUE(j["Errors"].is_array());
  EXPECT_TRUE(j["Errors"].empty());
}

TEST(ResponseTest, InvalidUtf8DoesNotThrow) {
  auto r = Response::Error(500, std::string("bad \xff byte"));
  EXPECT_NE(r.body.find("ErrorMessage"), std::string::npos);
}

TEST(ResponseTest, FromErrorMapsStatus) {
  EXPECT_EQ(Response::FromError(Error::InvalidArgument("x")).status, 400);
  EXPECT_EQ(Response::FromError(Error::Unauthenticated("x")).status, 401);
  EXPECT_EQ(Response::FromError(Error::PermissionDenied("x")).status, 403);
  EXPECT_EQ(Response::FromError(Error::NotFound("project", "Projects-1")).status, 404);
  EXPECT_EQ(Response::FromError(Error::AlreadyExists("x")).status, 409);
  EXPECT_EQ(Response::FromError(Error::Conflict("x")).status, 409);
  EXPECT_EQ(Response::FromError(Error::TooLarge("x")).status, 413);
  EXPECT_EQ(Response::FromError(Error::Unavailable("x")).status, 503);
  EXPECT_EQ(Response::FromError(Error::Database("x")).status, 500);
  EXPECT_EQ(Response::FromError(Error::Internal("x")).status, 500);
  auto r = Response::FromError(Error::NotFound("project", "Projects-1"));
  EXPECT_EQ(nlohmann::json::parse(r.body)["ErrorMessage"], "project 'Projects-1' was not found.");
}

// Regression (issue 9): a 500 showed the server's absolute storage path (the error's message).
TEST(ResponseTest, ServerErrorsAreAnsweredWithoutTheirMessage) {
  for (const Error& e : {Error::Io("'/srv/cuttle/packages/spaces-1/.tmp-upload-1': No space left"),
                         Error::Internal("/srv/cuttle/x: bug"),
                         Error::Database("sqlite '/srv/cuttle/cuttle.db' is read-only"),
                         Error::LostOwnership("/srv/cuttle/tasklogs"),
                         Error::Unavailable("connecting to /run/postgresql/.s.PGSQL.5432")}) {
    Response r = Response::FromError(e);
    EXPECT_GE(r.status, 500);
    EXPECT_EQ(r.body.find("/srv/"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("/run/"), std::string::npos) << r.body;
    auto j = nlohmann::json::parse(r.body);
    EXPECT_NE(j["ErrorMessage"].get<std::string>().find("reference"), std::string::npos);
  }
  // A client's own mistake keeps its message.
  Response bad = Response::FromError(Error::InvalidArgument("The package file name 'x' is bad."));
  EXPECT_EQ(nlohmann::json::parse(bad.body)["ErrorMessage"], "The package file name 'x' is bad.");
}

TEST(ResponseTest, JsonAndText) {
  auto j = Response::Json(201, {{"Id", "Tasks-1"}});
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.body, R"({"Id":"Tasks-1"})");
  auto t = Response::Text(200, "hello");
  EXPECT_EQ(t.body, "hello");
  EXPECT_EQ(t.content_type, "text/plain; charset=utf-8");
}

TEST(ResponseTest, SetHeaderReplacesIgnoringCase) {
  Response r;
  r.SetHeader("Cache-Control", "no-cache").SetHeader("cache-control", "no-store");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "no-store");
  r.SetHeader("ETag", "\"1\"");
  EXPECT_EQ(r.headers.size(), 2u);
}

TEST(IfNoneMatchTest, ListsWeakAndWildcard) {
  EXPECT_TRUE(IfNoneMatch("\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatch("\"x\", W/\"a\"", "\"a\""));
  EXPECT_TRUE(IfNoneMatch("*", "\"a\""));
  EXPECT_FALSE(IfNoneMatch("\"b\"", "\"a\""));
  EXPECT_FALSE(IfNoneMatch("", "\"a\""));
  EXPECT_FALSE(IfNoneMatch("a", "\"a\""));  // unquoted is another tag
}

}  // namespace
}  // namespace cuttle::http
