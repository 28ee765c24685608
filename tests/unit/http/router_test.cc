#include <gtest/gtest.h>

#include "http/http.h"

namespace cuttle::http {
namespace {

// Each handler answers with its own name, so a test can see which route matched.
Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string Call(const Router::Match& m) {
  if (m.handler == nullptr) {
    return std::to_string(m.status);
  }
  Request req;
  return (*m.handler)(req).body;
}

TEST(RouterTest, LiteralBeatsCaptureWhateverTheOrder) {
  Router a;
  a.Add("GET", "/api/octopusservernodes/{id}", Named("by-id"));
  a.Add("GET", "/api/octopusservernodes/ping", Named("ping"));
  EXPECT_EQ(Call(a.Find("GET", "/api/octopusservernodes/ping")), "ping");
  EXPECT_EQ(Call(a.Find("GET", "/api/octopusservernodes/Nodes-1")), "by-id");

  Router b;
  b.Add("GET", "/api/octopusservernodes/ping", Named("ping"));
  b.Add("GET", "/api/octopusservernodes/{id}", Named("by-id"));
  EXPECT_EQ(Call(b.Find("GET", "/api/octopusservernodes/ping")), "ping");
}

TEST(RouterTest, MostSpecificComparesSegmentBySegment) {
  Router r;
  r.Add("GET", "/a/{x}/c", Named("capture-first"));
  r.Add("GET", "/a/b/{y}", Named("literal-first"));
  EXPECT_EQ(Call(r.Find("GET", "/a/b/c")), "literal-first");
  EXPECT_EQ(Call(r.Find("GET", "/a/z/c")), "capture-first");
}

TEST(RouterTest, CapturesSegments) {
  Router r;
  r.Add("GET", "/api/{spaceId}/projects/{id}", Named("project"));
  auto m = r.Find("GET", "/api/Spaces-1/projects/Projects-2");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("spaceId"), "Spaces-1");
  EXPECT_EQ(m.params.at("id"), "Projects-2");
}

TEST(RouterTest, LiteralsAreCaseInsensitive) {
  Router r;
  r.Add("GET", "/api/Projects", Named("projects"));
  EXPECT_EQ(Call(r.Find("GET", "/API/projects")), "projects");
}

TEST(RouterTest, NotFoundVersusMethodNotAllowed) {
  Router r;
  r.Add("GET", "/api/projects", Named("list"));
  r.Add("POST", "/api/projects", Named("create"));
  EXPECT_EQ(Call(r.Find("POST", "/api/projects")), "create");
  EXPECT_EQ(Call(r.Find("DELETE", "/api/projects")), "405");
  EXPECT_EQ(Call(r.Find("GET", "/api/nothing")), "404");
  EXPECT_EQ(Call(r.Find("GET", "/api/projects/extra")), "404");
  EXPECT_EQ(Call(r.Find("GET", "/api")), "404");
}

TEST(RouterTest, TrailingSlashIsTolerated) {
  Router r;
  r.Add("GET", "/api", Named("root"));
  r.Add("GET", "/api/tasks/", Named("tasks"));
  EXPECT_EQ(Call(r.Find("GET", "/api/")), "root");
  EXPECT_EQ(Call(r.Find("GET", "/api")), "root");
  EXPECT_EQ(Call(r.Find("GET", "/api/tasks")), "tasks");
}

TEST(RouterTest, RootPath) {
  Router r;
  r.Add("GET", "/", Named("root"));
  EXPECT_EQ(Call(r.Find("GET", "/")), "root");
  EXPECT_EQ(Call(r.Find("GET", "")), "root");
}

TEST(RouterTest, HeadIsServedByGetUnlessItHasItsOwnRoute) {
  Router r;
  r.Add("GET", "/a", Named("get-a"));
  r.Add("GET", "/b", Named("get-b"));
  r.Add("HEAD", "/b", Named("head-b"));
  EXPECT_EQ(Call(r.Find("HEAD", "/a")), "get-a");
  EXPECT_EQ(Call(r.Find("HEAD", "/b")), "head-b");
  EXPECT_EQ(Call(r.Find("POST", "/a")), "405");
}

TEST(RouterTest, TailCaptureTakesTheRestOfThePath) {
  Router r;
  r.Add("GET", "/app/{*path}", Named("app"));
  r.Add("GET", "/app/special", Named("special"));
  r.Add("GET", "/{spaceId}/nuget/packages", Named("nuget"));
  EXPECT_EQ(Call(r.Find("GET", "/app")), "app");
  EXPECT_EQ(Call(r.Find("GET", "/app/")), "app");
  EXPECT_EQ(Call(r.Find("GET", "/app/special")), "special");     // fixed length wins
  EXPECT_EQ(Call(r.Find("GET", "/app/nuget/packages")), "app");  // literal first segment wins
  EXPECT_EQ(Call(r.Find("GET", "/Spaces-1/nuget/packages")), "nuget");
  EXPECT_EQ(Call(r.Find("GET", "/apps/x")), "404");
  auto m = r.Find("GET", "/APP/tasks//ServerTasks-1/log");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("path"), "tasks/ServerTasks-1/log");
  EXPECT_EQ(r.Find("GET", "/app").params.at("path"), "");
  EXPECT_EQ(Call(r.Find("POST", "/app/x")), "405");
}

TEST(RouterTest, OptionsComeWithTheMatch) {
  Router r;
  r.Add("POST", "/upload", Named("upload"), {.max_body_bytes = 1234});
  auto m = r.Find("POST", "/upload");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options.max_body_bytes, 1234u);
}

}  // namespace
}  // namespace cuttle::http
