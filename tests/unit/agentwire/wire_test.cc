#include "agentwire/wire.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/strings.h"

namespace cuttle::agentwire {
namespace {

// "CuttleAgent id:ms:nonce:sig" split back into its four parts.
std::vector<std::string> Parts(const std::string& header) {
  std::string rest = header.substr(std::string(kAuthScheme).size() + 1);
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t colon; (colon = rest.find(':', start)) != std::string::npos; start = colon + 1) {
    out.push_back(rest.substr(start, colon - start));
  }
  out.push_back(rest.substr(start));
  return out;
}

TEST(AgentWireTest, ASignedRequestVerifiesWithItsOwnKeyOnly) {
  KeyPair key = GenerateKeyPair();
  KeyPair other = GenerateKeyPair();
  ASSERT_EQ(key.public_key.size(), 32u);
  std::string header =
      AuthorizationHeader("Machines-1", key, "PUT", "/api/agent/v1/commands/C/log/0", 1000, "body");
  auto parsed = ParseAuthorization(header);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->machine_id, "Machines-1");
  EXPECT_EQ(parsed->unix_ms, 1000);
  EXPECT_TRUE(Verify(key.public_key, *parsed, "PUT", "/api/agent/v1/commands/C/log/0", "body"));
  EXPECT_FALSE(Verify(other.public_key, *parsed, "PUT", "/api/agent/v1/commands/C/log/0", "body"));
  // Every covered part matters: the body, the target, the method.
  EXPECT_FALSE(Verify(key.public_key, *parsed, "PUT", "/api/agent/v1/commands/C/log/0", "bodY"));
  EXPECT_FALSE(Verify(key.public_key, *parsed, "PUT", "/api/agent/v1/commands/C/log/1", "body"));
  EXPECT_FALSE(Verify(key.public_key, *parsed, "POST", "/api/agent/v1/commands/C/log/0", "body"));
  // A time or nonce changed after signing.
  ParsedAuthorization later = *parsed;
  later.unix_ms += 1;
  EXPECT_FALSE(Verify(key.public_key, later, "PUT", "/api/agent/v1/commands/C/log/0", "body"));
  ParsedAuthorization renonced = *parsed;
  renonced.nonce[0] = renonced.nonce[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(Verify(key.public_key, renonced, "PUT", "/api/agent/v1/commands/C/log/0", "body"));
}

TEST(AgentWireTest, EachHeaderHasAFreshNonce) {
  KeyPair key = GenerateKeyPair();
  auto a = Parts(AuthorizationHeader("M", key, "GET", "/p", 1, ""));
  auto b = Parts(AuthorizationHeader("M", key, "GET", "/p", 1, ""));
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_NE(a[2], b[2]);
}

TEST(AgentWireTest, MalformedHeadersAreRefusedWithOneLine) {
  const std::string n32(32, 'a');
  const std::vector<std::string> bads = {
      "",
      "Bearer x",
      "CuttleAgent",
      "CuttleAgent a:b:c",
      fmt::format("CuttleAgent M:12x:{}:AA==", n32),
      fmt::format("CuttleAgent M:1:{}:AA==", std::string(31, 'a')),
      fmt::format("CuttleAgent M:1:{}:AA==", std::string(32, 'A')),
      fmt::format("CuttleAgent M:1:{}:AA==", n32),  // a signature of 1 byte
      fmt::format("CuttleAgent :1:{}:AA==", n32)};
  for (const std::string& bad : bads) {
    auto r = ParseAuthorization(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
  }
}

TEST(AgentWireTest, ThumbprintIsFortyUpperCaseHexCharacters) {
  std::string t = Thumbprint(std::string(32, '\x01'));
  EXPECT_EQ(t.size(), 40u);
  for (char c : t) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << t;
}

TEST(AgentWireTest, AnEnvelopeRoundTripsWithVariableOrderAndSensitivity) {
  Envelope e;
  e.command_id = "AgentCommands-1";
  e.kind = CommandKind::kPackage;
  e.task_id = "ServerTasks-3";
  e.unit_key = "1/Actions-1/Machines-2";
  e.attempt = 2;
  e.syntax = engine::ScriptSyntax::kPython;
  e.script_body = "print('hi')";
  e.variables.Set("Zed", "1");
  e.variables.Set("Alpha", "secret", /*sensitive=*/true);
  e.env["OCTOPUS_TASK_ID"] = "ServerTasks-3";
  e.timeout_seconds = 30;
  e.package = PackageInfo{"Spaces-1", "web", "1.0.0", std::string(64, 'a'), 123, "web.1.0.0.zip"};
  auto back = EnvelopeFromJson(nlohmann::json::parse(EnvelopeToJson(e).dump()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->command_id, e.command_id);
  EXPECT_EQ(back->kind, CommandKind::kPackage);
  EXPECT_EQ(back->attempt, 2);
  EXPECT_EQ(back->syntax, engine::ScriptSyntax::kPython);
  EXPECT_EQ(back->script_body, e.script_body);
  ASSERT_TRUE(back->variables.Find("alpha"));
  EXPECT_TRUE(back->variables.Find("alpha")->sensitive);
  EXPECT_EQ(back->variables.Find("alpha")->value, "secret");
  // First-definition order survives (Octostache's indexed collections depend on it).
  EXPECT_LT(back->variables.Find("Zed")->order, back->variables.Find("Alpha")->order);
  EXPECT_EQ(back->env.at("OCTOPUS_TASK_ID"), "ServerTasks-3");
  ASSERT_TRUE(back->package);
  EXPECT_EQ(back->package->size, 123u);
  EXPECT_EQ(back->package->file_name, "web.1.0.0.zip");
}

TEST(AgentWireTest, BadEnvelopesNameTheField) {
  auto missing = EnvelopeFromJson(nlohmann::json{{"Kind", "script"}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("CommandId"), std::string::npos);
  auto kind = EnvelopeFromJson(nlohmann::json{{"CommandId", "C"}, {"Kind", "reboot"}});
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().message().find("reboot"), std::string::npos);
  auto syntax = EnvelopeFromJson(
      nlohmann::json{{"CommandId", "C"}, {"Kind", "script"}, {"Syntax", "CSharp"}});
  ASSERT_FALSE(syntax);
  auto package = EnvelopeFromJson(nlohmann::json{{"CommandId", "C"}, {"Kind", "package"}});
  ASSERT_FALSE(package);
  auto vars = EnvelopeFromJson(
      nlohmann::json{{"CommandId", "C"}, {"Kind", "script"}, {"Variables", {{{"Value", "x"}}}}});
  ASSERT_FALSE(vars);
  EXPECT_NE(vars.error().message().find("Name"), std::string::npos);
}

TEST(AgentWireTest, ChunkLinesRoundTripIncludingInvalidUtf8AndNewlineFreeText) {
  std::string chunk = EncodeLine({engine::LogCategory::kWarning, "careful", 5}) +
                      EncodeLine({engine::LogCategory::kInfo, "bad \xff byte", 6}) +
                      EncodeLine({engine::LogCategory::kError, "", 7});
  EXPECT_EQ(std::count(chunk.begin(), chunk.end(), '\n'), 3);
  auto lines = DecodeChunk(chunk);
  ASSERT_TRUE(lines) << lines.error().message();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0].category, engine::LogCategory::kWarning);
  EXPECT_EQ((*lines)[0].text, "careful");
  EXPECT_EQ((*lines)[0].unix_ms, 5);
  EXPECT_EQ((*lines)[1].text, "bad \xEF\xBF\xBD byte");
  EXPECT_EQ((*lines)[2].text, "");
  EXPECT_FALSE(DecodeChunk("{\"c\":\"Loud\",\"t\":\"x\"}\n"));
  EXPECT_FALSE(DecodeChunk("not json\n"));
}

TEST(AgentWireTest, AResultRoundTrips) {
  CommandResult r;
  r.state = ResultState::kFailed;
  r.last_seq = 4;
  r.outcome.exit_code = 3;
  r.outcome.result_message = "boom";
  r.outcome.output_variables.push_back({"Out", "v", true});
  r.outcome.artifacts.push_back({"/tmp/a.txt", "a.txt", 12});
  r.facts = {{"Status", "Healthy"}};
  r.message = "done";
  auto back = ResultFromJson(nlohmann::json::parse(ResultToJson(r).dump()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->state, ResultState::kFailed);
  EXPECT_EQ(back->last_seq, 4);
  EXPECT_EQ(back->outcome.exit_code, 3);
  EXPECT_EQ(back->outcome.result_message, "boom");
  ASSERT_EQ(back->outcome.output_variables.size(), 1u);
  EXPECT_TRUE(back->outcome.output_variables[0].sensitive);
  ASSERT_EQ(back->outcome.artifacts.size(), 1u);
  EXPECT_EQ(back->outcome.artifacts[0].length, 12);
  EXPECT_EQ(back->facts["Status"], "Healthy");
  EXPECT_FALSE(ResultFromJson(nlohmann::json{{"State", "maybe"}}));
  EXPECT_FALSE(ResultFromJson(nlohmann::json{{"State", "failed"}, {"LastSeq", -2}}));
}

}  // namespace
}  // namespace cuttle::agentwire
