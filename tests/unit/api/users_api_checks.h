// Users and sign-in (issue 13) through the HTTP interface: a real node's router (api::BuildRouter)
// on an http::Server at port 0, and a second node on the same database with its own SessionSeal
// from the same master key. Included by users_api_test.cc (SQLite) and users_api_pgtest.cc
// (PostgreSQL), which define NewUsersDatabase.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "api/api.h"
#include "auth/auth.h"
#include "auth/sessions.h"
#include "cluster/node_registry.h"
#include "core/ids.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "crypto/password.h"
#include "crypto/session_seal.h"
#include "feed/package_store.h"
#include "repo/bootstrap.h"
#include "tasks/artifacts.h"
#include "tasks/task_queue.h"
#include "testing/fake_clock.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace cuttle::api {

std::unique_ptr<db::Database> NewUsersDatabase(const testing::TempDir& dir);

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

constexpr const char* kAdminPassword = "correct horse battery";

using Reply = testing::HttpReply;

Reply Send(uint16_t port, const std::string& method, const std::string& target,
           const std::string& body, const testing::HttpHeaders& extra) {
  return testing::HttpSend(port, method, target, body, extra);
}

// What a browser keeps after signing in: the two cookies' values.
struct Browser {
  std::string session;
  std::string csrf;
};

// One node: its own context, SessionSeal and server on the shared database.
struct Node {
  Node(db::Database& db, core::Clock& clock, const std::string& dir, const config::Options& options,
       const crypto::SecretBox& secrets, const crypto::MasterKey& master, const std::string& name)
      : registry(db, clock, {.node_name = name, .heartbeat_thread = false}),
        queue(db),
        artifacts(db, dir + "/artifacts"),
        packages(db, dir + "/packages", 1 << 20),
        seal(master),
        ctx{db, registry, options, "inst-1", queue, artifacts, packages, secrets} {
    ctx.sessions = &seal;
    ctx.session_policy.password_cost = crypto::PasswordCost::Minimum();
    http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.handler_threads = 2;
    o.log_requests = false;
    server = std::make_unique<http::Server>(o, BuildRouter(ctx));
    EXPECT_TRUE(server->Start());
  }
  ~Node() { server->Shutdown(1s); }

  cluster::NodeRegistry registry;
  tasks::TaskQueue queue;
  tasks::ArtifactStore artifacts;
  feed::PackageStore packages;
  crypto::SessionSeal seal;
  ApiContext ctx;
  std::unique_ptr<http::Server> server;
};

class UsersApiTest : public ::testing::Test {
 protected:
  UsersApiTest()
      : db_(NewUsersDatabase(dir_)), master_(crypto::MasterKey::Generate()), secrets_(master_) {}

  void SetUp() override {
    api_key_ = core::NewApiKey();
    auto hash = crypto::HashPassword(kAdminPassword, crypto::PasswordCost::Minimum());
    ASSERT_TRUE(hash);
    ASSERT_TRUE(repo::Bootstrap(*db_, auth::HashApiKey(api_key_), *hash));
    a_ = NewNode("a");
    b_ = NewNode("b");
  }

  std::unique_ptr<Node> NewNode(const std::string& name) {
    return std::make_unique<Node>(*db_, clock_, dir_.path().string(), options_, secrets_, master_,
                                  name);
  }

  Reply WithKey(Node& n, const std::string& method, const std::string& target,
                const json& body = nullptr, const std::string& key = "") {
    return Send(n.server->port(), method, target, body.is_null() ? "" : body.dump(),
                {{"X-Octopus-ApiKey", key.empty() ? api_key_ : key}});
  }

  static std::string CookieHeader(const Browser& b) {
    return "OctopusIdentificationToken_inst-1=" + b.session +
           "; Octopus-Csrf-Token_inst-1=" + b.csrf;
  }
  // A call with the browser's cookies; `csrf`: send its token in X-Octopus-Csrf-Token.
  Reply WithCookie(Node& n, const Browser& b, const std::string& method, const std::string& target,
                   const json& body = nullptr, bool csrf = true) {
    std::vector<std::pair<std::string, std::string>> h = {{"Cookie", CookieHeader(b)}};
    if (csrf) h.emplace_back("X-Octopus-Csrf-Token", b.csrf);
    return Send(n.server->port(), method, target, body.is_null() ? "" : body.dump(), h);
  }

  Reply Login(Node& n, const std::string& user, const std::string& password,
              bool remember_me = false) {
    return Send(
        n.server->port(), "POST", "/api/users/login",
        json{{"Username", user}, {"Password", password}, {"RememberMe", remember_me}}.dump(), {});
  }

  // The value of cookie `name` among a reply's Set-Cookie headers.
  static std::string CookieValue(const Reply& r, const std::string& name) {
    for (const auto& c : r.Headers("Set-Cookie")) {
      if (c.starts_with(name + "="))
        return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
    }
    return "";
  }

  Browser SignIn(Node& n, const std::string& user = "admin",
                 const std::string& password = kAdminPassword) {
    auto r = Login(n, user, password);
    EXPECT_EQ(r.status, 200) << r.body;
    Browser b{CookieValue(r, "OctopusIdentificationToken_inst-1"),
              CookieValue(r, "Octopus-Csrf-Token_inst-1")};
    EXPECT_FALSE(b.session.empty());
    EXPECT_FALSE(b.csrf.empty());
    return b;
  }

  std::string CreateUser(const std::string& name, const std::string& password) {
    auto r = WithKey(*a_, "POST", "/api/users",
                     {{"Username", name}, {"DisplayName", name}, {"Password", password}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("Id", "");
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<db::Database> db_;
  config::Options options_;
  crypto::MasterKey master_;
  crypto::SecretBox secrets_;
  std::string api_key_;
  std::unique_ptr<Node> a_, b_;
};

TEST_F(UsersApiTest, SignInSetsOctopusCookiesThatEveryNodeAccepts) {
  auto r = Login(*a_, "ADMIN", kAdminPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["Username"], "admin");
  EXPECT_EQ(r.Json()["IsRequestor"], true);
  ASSERT_EQ(r.Headers("Set-Cookie").size(), 2u);
  EXPECT_TRUE(r.Headers("Set-Cookie")[0].starts_with("OctopusIdentificationToken_inst-1="));
  EXPECT_NE(r.Headers("Set-Cookie")[0].find("HttpOnly"), std::string::npos);
  EXPECT_EQ(r.Headers("Set-Cookie")[0].find("Max-Age"),
            std::string::npos);  // a browser-session cookie
  EXPECT_TRUE(r.Headers("Set-Cookie")[1].starts_with("Octopus-Csrf-Token_inst-1="));
  EXPECT_EQ(r.Headers("Set-Cookie")[1].find("HttpOnly"),
            std::string::npos);  // the portal's script reads it

  Browser b{CookieValue(r, "OctopusIdentificationToken_inst-1"),
            CookieValue(r, "Octopus-Csrf-Token_inst-1")};
  a_.reset();  // the node that signed in is gone
  auto me = WithCookie(*b_, b, "GET", "/api/users/me", nullptr, false);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["Id"], "Users-1");

  // A node with another master key cannot open the cookie.
  crypto::MasterKey other = crypto::MasterKey::Generate();
  Node stranger(*db_, clock_, dir_.path().string(), options_, secrets_, other, "c");
  EXPECT_EQ(WithCookie(stranger, b, "GET", "/api/users/me").status, 401);
  // An altered cookie is refused.
  Browser altered = b;
  altered.session[10] = altered.session[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(WithCookie(*b_, altered, "GET", "/api/users/me").status, 401);

  auto remembered = Login(*b_, "admin", kAdminPassword, true);
  ASSERT_EQ(remembered.status, 200);
  EXPECT_NE(remembered.Headers("Set-Cookie")[0].find("Max-Age=1209600"), std::string::npos);
}

TEST_F(UsersApiTest, AStateChangingCallWithACookieNeedsTheCsrfToken) {
  Browser b = SignIn(*a_);
  const json env = {{"Name", "Dev"}};
  auto refused = WithCookie(*a_, b, "POST", "/api/environments", env, false);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.Message().find("anti-forgery"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.Message().find('\n'), std::string::npos);
  Browser wrong = b;
  wrong.csrf = SignIn(*a_).csrf;  // another session's valid token
  EXPECT_EQ(WithCookie(*a_, wrong, "POST", "/api/environments", env).status, 403);
  EXPECT_EQ(WithCookie(*b_, b, "POST", "/api/environments", env).status, 201);
  // Reads need no token; API keys need none either.
  EXPECT_EQ(WithCookie(*a_, b, "GET", "/api/environments", nullptr, false).status, 200);
  EXPECT_EQ(WithKey(*a_, "POST", "/api/environments", {{"Name", "Test"}}).status, 201);
}

TEST_F(UsersApiTest, SignOutEndsTheSessionOnEveryNode) {
  Browser b = SignIn(*a_);
  EXPECT_EQ(WithCookie(*b_, b, "POST", "/api/users/logout", nullptr, false).status, 403);
  EXPECT_EQ(WithCookie(*b_, b, "GET", "/api/users/me").status, 200);
  auto out = WithCookie(*b_, b, "POST", "/api/users/logout");
  ASSERT_EQ(out.status, 200) << out.body;
  ASSERT_EQ(out.Headers("Set-Cookie").size(), 2u);
  EXPECT_NE(out.Headers("Set-Cookie")[0].find("Max-Age=0"), std::string::npos);
  auto after = WithCookie(*a_, b, "GET", "/api/users/me");
  EXPECT_EQ(after.status, 401);
  // Signing out again is harmless.
  EXPECT_EQ(WithCookie(*a_, b, "POST", "/api/users/logout").status, 200);
}

TEST_F(UsersApiTest, TheSignInPageLearnsItsProviderAnonymously) {
  auto r = Send(a_->server->port(), "GET", "/api/authentication", "", {});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["AuthenticationProviders"][0]["IdentityType"], "UsernamePassword");
  EXPECT_EQ(r.Json()["AuthenticationProviders"][0]["FormsLoginEnabled"], true);
  auto root = Send(a_->server->port(), "GET", "/api", "", {});
  EXPECT_EQ(root.Json()["Links"]["SignIn"], "/api/users/login{?returnUrl}");
  EXPECT_EQ(root.Json()["Links"]["SignOut"], "/api/users/logout");
}

TEST_F(UsersApiTest, AWrongPasswordAndAnUnknownUserAnswerAlike) {
  auto wrong = Login(*a_, "admin", "not the password");
  auto unknown = Login(*a_, "nobody", "not the password");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(wrong.Message(), "Invalid username or password.");
  EXPECT_EQ(unknown.Message(), wrong.Message());
  EXPECT_TRUE(wrong.Headers("Set-Cookie").empty());
  EXPECT_EQ(Send(a_->server->port(), "POST", "/api/users/login", "{}", {}).status, 400);
}

TEST_F(UsersApiTest, TheTenthWrongPasswordLocksTheUserOnEveryNode) {
  for (int i = 1; i <= 9; ++i) {
    auto r = Login(i % 2 ? *a_ : *b_, "admin", "wrong password");
    ASSERT_EQ(r.status, 400);
    ASSERT_EQ(r.Message(), "Invalid username or password.") << "attempt " << i;
  }
  auto tenth = Login(*b_, "admin", "wrong password");
  EXPECT_EQ(tenth.status, 400);
  EXPECT_NE(tenth.Message().find("locked"), std::string::npos) << tenth.body;
  EXPECT_NE(tenth.Message().find("15 minutes"), std::string::npos) << tenth.body;
  for (Node* n : {a_.get(), b_.get()}) {
    auto right = Login(*n, "admin", kAdminPassword);
    EXPECT_EQ(right.status, 400);
    EXPECT_NE(right.Message().find("locked"), std::string::npos);
    EXPECT_TRUE(right.Headers("Set-Cookie").empty());
  }
  // API keys keep working for the locked user; the lockout is in the audit log.
  EXPECT_EQ(WithKey(*a_, "GET", "/api/users/me").status, 200);
  auto events = WithKey(*b_, "GET", "/api/events?eventCategories=LoginBanned");
  ASSERT_EQ(events.status, 200) << events.body;
  ASSERT_EQ(events.Json()["TotalResults"], 1) << events.body;
  EXPECT_NE(events.Json()["Items"][0].value("Message", "").find("admin was locked"),
            std::string::npos);
  // When the lock ends, the right password signs in and the count starts again.
  ASSERT_TRUE(db_->Execute("UPDATE users SET locked_until = now_ms() - 1 WHERE id = 'Users-1'"));
  SignIn(*a_);
  auto once = Login(*a_, "admin", "wrong password");
  EXPECT_EQ(once.Message(), "Invalid username or password.");
}

TEST_F(UsersApiTest, UsersAreCreatedModifiedAndDeleted) {
  std::string id = CreateUser("Carol", "carol's password");
  EXPECT_EQ(
      WithKey(*a_, "POST", "/api/users", {{"Username", "CAROL"}, {"Password", "xxxxxxxxx"}}).status,
      409);
  auto weak = WithKey(*a_, "POST", "/api/users", {{"Username", "dan"}, {"Password", "short"}});
  EXPECT_EQ(weak.status, 400);
  auto list = WithKey(*a_, "GET", "/api/users?filter=car");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Json()["TotalResults"], 1);
  EXPECT_EQ(list.Json()["Items"][0]["Username"], "Carol");
  EXPECT_EQ(WithKey(*a_, "GET", "/api/users/all").Json().size(), 2u);

  Browser carol = SignIn(*b_, "carol", "carol's password");
  auto renamed = WithKey(*a_, "PUT", "/api/users/" + id, {{"DisplayName", "Carol C"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.Json()["DisplayName"], "Carol C");
  EXPECT_EQ(WithKey(*a_, "GET", "/api/users/" + id).Json()["DisplayName"], "Carol C");
  // Deactivating a user ends its sessions.
  ASSERT_EQ(WithKey(*a_, "PUT", "/api/users/" + id, {{"IsActive", false}}).status, 200);
  EXPECT_EQ(WithCookie(*a_, carol, "GET", "/api/users/me").status, 401);
  EXPECT_EQ(Login(*a_, "carol", "carol's password").status, 400);

  EXPECT_EQ(WithKey(*a_, "DELETE", "/api/users/Users-1").status, 409);  // oneself
  EXPECT_EQ(WithKey(*a_, "DELETE", "/api/users/" + id).status, 200);
  EXPECT_EQ(WithKey(*a_, "GET", "/api/users/" + id).status, 404);
}

TEST_F(UsersApiTest, ChangingAPasswordEndsTheOtherSessions) {
  std::string id = CreateUser("erin", "erin's first password");
  Browser here = SignIn(*a_, "erin", "erin's first password");
  Browser elsewhere = SignIn(*b_, "erin", "erin's first password");
  const std::string path = "/api/users/" + id + "/changepassword";
  auto no_old = WithCookie(*a_, here, "POST", path, {{"NewPassword", "erin's second password"}});
  EXPECT_EQ(no_old.status, 400);
  auto bad_old = WithCookie(*a_, here, "POST", path,
                            {{"OldPassword", "wrong"}, {"NewPassword", "erin's second password"}});
  EXPECT_EQ(bad_old.status, 400);
  auto changed = WithCookie(
      *a_, here, "POST", path,
      {{"OldPassword", "erin's first password"}, {"NewPassword", "erin's second password"}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(WithCookie(*b_, here, "GET", "/api/users/me").status, 200);
  EXPECT_EQ(WithCookie(*b_, elsewhere, "GET", "/api/users/me").status, 401);
  EXPECT_EQ(Login(*a_, "erin", "erin's first password").status, 400);
  SignIn(*b_, "erin", "erin's second password");
  // An administrator sets it through the user resource, as Octopus clients do.
  ASSERT_EQ(WithKey(*a_, "PUT", "/api/users/" + id, {{"Password", "erin's third password"}}).status,
            200);
  EXPECT_EQ(WithCookie(*b_, here, "GET", "/api/users/me").status, 401);
  SignIn(*a_, "erin", "erin's third password");
}

TEST_F(UsersApiTest, ApiKeysAreShownOnceListedAndRevoked) {
  Browser b = SignIn(*a_);
  auto created = WithCookie(*a_, b, "POST", "/api/users/Users-1/apikeys", {{"Purpose", "CI"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = created.Json().value("ApiKey", "");
  const std::string key_id = created.Json().value("Id", "");
  EXPECT_TRUE(core::IsApiKeyFormat(key));
  EXPECT_EQ(created.Json()["Purpose"], "CI");
  auto list = WithKey(*b_, "GET", "/api/users/Users-1/apikeys", nullptr, key);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Json()["TotalResults"], 2);  // the bootstrap key and this one
  EXPECT_EQ(list.body.find(key), std::string::npos);
  EXPECT_EQ(list.Json()["Items"][1]["ApiKey"]["HasValue"], true);
  auto past = WithCookie(*a_, b, "POST", "/api/users/Users-1/apikeys",
                         {{"Purpose", "old"}, {"Expires", "2001-01-01T00:00:00Z"}});
  EXPECT_EQ(past.status, 400);
  EXPECT_EQ(WithCookie(*a_, b, "DELETE", "/api/users/Users-1/apikeys/" + key_id).status, 200);
  EXPECT_EQ(WithKey(*b_, "GET", "/api/users/me", nullptr, key).status, 401);
  EXPECT_EQ(WithCookie(*a_, b, "DELETE", "/api/users/Users-1/apikeys/" + key_id).status, 404);
}

TEST_F(UsersApiTest, NeitherPasswordsNorSessionKeysAreStoredInPlainText) {
  CreateUser("frank", "frank's secret password");
  Browser b = SignIn(*a_, "frank", "frank's secret password");
  std::string dump;
  for (const char* table : {"users", "user_sessions", "api_keys", "events"}) {
    auto rs = db_->Execute(std::string("SELECT * FROM ") + table);
    ASSERT_TRUE(rs);
    for (const auto& row : rs->rows) {
      for (size_t i = 0; i < row.size(); ++i) dump += row.GetString(i) + "\n";
    }
  }
  EXPECT_NE(dump.find("$argon2id$"), std::string::npos);
  for (const std::string& secret : {std::string("frank's secret password"), b.session, b.csrf,
                                    crypto::Base64UrlEncode(master_.bytes())}) {
    EXPECT_EQ(dump.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace cuttle::api
