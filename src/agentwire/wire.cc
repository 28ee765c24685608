#include "agentwire/wire.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "core/json.h"
#include "core/strings.h"
#include "crypto/crypto.h"

namespace cuttle::agentwire {

namespace {

using nlohmann::json;

void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init fails only when no entropy source exists; every call below would then abort.
    if (sodium_init() < 0) std::abort();
  });
}

Error Unauthenticated(std::string_view why) {
  return Error::Unauthenticated(fmt::format("The agent's request is not signed properly: {}", why));
}

// A field of `j` as a string; "" when absent. Fails naming the field when it is not a string.
Result<std::string> StringField(const json& j, const char* name, bool required = false) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return Fail(Error::InvalidArgument(fmt::format("{} is required.", name)));
    return std::string();
  }
  if (!it->is_string()) {
    return Fail(Error::InvalidArgument(fmt::format("{} must be a string.", name)));
  }
  return it->get<std::string>();
}

Result<int64_t> IntField(const json& j, const char* name, int64_t fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    return Fail(Error::InvalidArgument(fmt::format("{} must be an integer.", name)));
  }
  return it->get<int64_t>();
}

Result<bool> BoolField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return Fail(Error::InvalidArgument(fmt::format("{} must be true or false.", name)));
  }
  return it->get<bool>();
}

std::string_view SyntaxName(engine::ScriptSyntax s) {
  return s == engine::ScriptSyntax::kPython ? "Python" : "Bash";
}

json OutcomeToJson(const engine::StepOutcome& o) {
  json vars = json::array();
  for (const auto& v : o.output_variables) {
    vars.push_back({{"Name", v.name}, {"Value", v.value}, {"Sensitive", v.sensitive}});
  }
  json artifacts = json::array();
  for (const auto& a : o.artifacts) {
    json one = {{"Path", a.path}, {"Name", a.name}, {"Length", nullptr}};
    if (a.length) one["Length"] = *a.length;
    artifacts.push_back(std::move(one));
  }
  return {{"ExitCode", o.exit_code},
          {"KilledReason", o.killed_reason},
          {"TimedOut", o.timed_out},
          {"ResultMessage", o.result_message},
          {"WroteToStderr", o.wrote_to_stderr},
          {"OutputVariables", std::move(vars)},
          {"Artifacts", std::move(artifacts)}};
}

Result<engine::StepOutcome> OutcomeFromJson(const json& j) {
  if (!j.is_object()) return Fail(Error::InvalidArgument("Outcome must be an object."));
  engine::StepOutcome o;
  CUTTLE_TRY(int64_t exit_code, IntField(j, "ExitCode", 0));
  o.exit_code = static_cast<int>(exit_code);
  CUTTLE_TRY(o.killed_reason, StringField(j, "KilledReason"));
  CUTTLE_TRY(o.timed_out, BoolField(j, "TimedOut"));
  CUTTLE_TRY(o.result_message, StringField(j, "ResultMessage"));
  CUTTLE_TRY(o.wrote_to_stderr, BoolField(j, "WroteToStderr"));
  if (auto it = j.find("OutputVariables"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Fail(Error::InvalidArgument("OutputVariables must be an array."));
    for (const auto& v : *it) {
      if (!v.is_object()) {
        return Fail(Error::InvalidArgument("OutputVariables must hold objects."));
      }
      engine::OutputVariable out;
      CUTTLE_TRY(out.name, StringField(v, "Name", /*required=*/true));
      CUTTLE_TRY(out.value, StringField(v, "Value"));
      CUTTLE_TRY(out.sensitive, BoolField(v, "Sensitive"));
      o.output_variables.push_back(std::move(out));
    }
  }
  if (auto it = j.find("Artifacts"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Fail(Error::InvalidArgument("Artifacts must be an array."));
    for (const auto& a : *it) {
      if (!a.is_object()) return Fail(Error::InvalidArgument("Artifacts must hold objects."));
      engine::ArtifactRequest r;
      CUTTLE_TRY(r.path, StringField(a, "Path", /*required=*/true));
      CUTTLE_TRY(r.name, StringField(a, "Name"));
      if (auto l = a.find("Length"); l != a.end() && !l->is_null()) {
        if (!l->is_number_integer()) {
          return Fail(Error::InvalidArgument("Artifacts' Length must be an integer."));
        }
        r.length = l->get<int64_t>();
      }
      o.artifacts.push_back(std::move(r));
    }
  }
  return o;
}

}  // namespace

KeyPair GenerateKeyPair() {
  InitSodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  KeyPair k{std::string(reinterpret_cast<const char*>(pk), sizeof pk),
            std::string(reinterpret_cast<const char*>(sk), sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return k;
}

std::string Thumbprint(std::string_view public_key) {
  std::string hex = core::HexEncode(crypto::Sha256(public_key).substr(0, 20));
  std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  return hex;
}

std::string SigningString(std::string_view method, std::string_view target, int64_t unix_ms,
                          std::string_view nonce, std::string_view body) {
  return fmt::format("cuttle-agent-v1\n{}\n{}\n{}\n{}\n{}", method, target, unix_ms, nonce,
                     crypto::Sha256Hex(body));
}

std::string AuthorizationHeader(std::string_view machine_id, const KeyPair& key,
                                std::string_view method, std::string_view target, int64_t unix_ms,
                                std::string_view body) {
  InitSodium();
  const std::string nonce = core::HexEncode(crypto::RandomBytes(16));
  const std::string message = SigningString(method, target, unix_ms, nonce, body);
  unsigned char sig[crypto_sign_BYTES];
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES) return {};
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(),
                       reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  return fmt::format(
      "{} {}:{}:{}:{}", kAuthScheme, machine_id, unix_ms, nonce,
      core::Base64Encode(std::string_view(reinterpret_cast<const char*>(sig), sizeof sig)));
}

Result<ParsedAuthorization> ParseAuthorization(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  if (!header.starts_with(kAuthScheme) || header.size() <= kAuthScheme.size() ||
      header[kAuthScheme.size()] != ' ') {
    return Fail(Unauthenticated("the Authorization header is not CuttleAgent."));
  }
  header.remove_prefix(kAuthScheme.size() + 1);
  std::vector<std::string_view> parts;
  while (true) {
    size_t colon = header.find(':');
    if (colon == std::string_view::npos) {
      parts.push_back(header);
      break;
    }
    parts.push_back(header.substr(0, colon));
    header.remove_prefix(colon + 1);
  }
  if (parts.size() != 4) {
    return Fail(Unauthenticated("expected <machine id>:<unix ms>:<nonce>:<signature>."));
  }
  ParsedAuthorization a;
  a.machine_id = std::string(parts[0]);
  if (a.machine_id.empty() || a.machine_id.size() > 100) {
    return Fail(Unauthenticated("the machine id is missing."));
  }
  // Machine ids are printable ASCII ("Machines-12"); anything else (bytes PostgreSQL would refuse
  // as text) names no agent.
  if (!std::all_of(a.machine_id.begin(), a.machine_id.end(),
                   [](char c) { return c > ' ' && c < 0x7f; })) {
    return Fail(Unauthenticated("the machine id is not an id."));
  }
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), a.unix_ms);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size()) {
    return Fail(Unauthenticated("the time is not a number of milliseconds."));
  }
  a.nonce = std::string(parts[2]);
  if (a.nonce.size() != 32 || !std::all_of(a.nonce.begin(), a.nonce.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return Fail(Unauthenticated("the nonce is not 32 lower-case hex characters."));
  }
  auto sig = core::Base64Decode(parts[3]);
  if (!sig || sig->size() != crypto_sign_BYTES) {
    return Fail(Unauthenticated("the signature is not 64 bytes of base64."));
  }
  a.signature = std::move(*sig);
  return a;
}

bool Verify(std::string_view public_key, const ParsedAuthorization& auth, std::string_view method,
            std::string_view target, std::string_view body) {
  InitSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      auth.signature.size() != crypto_sign_BYTES) {
    return false;
  }
  const std::string message = SigningString(method, target, auth.unix_ms, auth.nonce, body);
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(auth.signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

std::string_view KindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kScript:
      return "script";
    case CommandKind::kPackage:
      return "package";
    case CommandKind::kHealth:
      return "health";
  }
  return "script";
}

std::optional<CommandKind> ParseKind(std::string_view name) {
  for (CommandKind k : {CommandKind::kScript, CommandKind::kPackage, CommandKind::kHealth}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

json EnvelopeToJson(const Envelope& e) {
  std::vector<const engine::Variable*> ordered;
  for (const auto& [name, v] : e.variables) ordered.push_back(&v);
  std::sort(
      ordered.begin(), ordered.end(),
      [](const engine::Variable* a, const engine::Variable* b) { return a->order < b->order; });
  json vars = json::array();
  for (const engine::Variable* v : ordered) {
    vars.push_back({{"Name", v->name}, {"Value", v->value}, {"Sensitive", v->sensitive}});
  }
  json j = {{"CommandId", e.command_id},
            {"Kind", KindName(e.kind)},
            {"TaskId", e.task_id},
            {"UnitKey", e.unit_key},
            {"Attempt", e.attempt},
            {"Syntax", SyntaxName(e.syntax)},
            {"ScriptBody", e.script_body},
            {"Variables", std::move(vars)},
            {"Env", e.env},
            {"TimeoutSeconds", e.timeout_seconds},
            {"Package", nullptr}};
  if (e.package) {
    j["Package"] = {{"SpaceId", e.package->space_id}, {"PackageId", e.package->package_id},
                    {"Version", e.package->version},  {"Sha256", e.package->sha256},
                    {"Size", e.package->size},        {"FileName", e.package->file_name}};
  }
  return j;
}

Result<Envelope> EnvelopeFromJson(const json& j) {
  if (!j.is_object()) return Fail(Error::InvalidArgument("The envelope must be an object."));
  Envelope e;
  CUTTLE_TRY(e.command_id, StringField(j, "CommandId", /*required=*/true));
  CUTTLE_TRY(std::string kind, StringField(j, "Kind", /*required=*/true));
  auto k = ParseKind(kind);
  if (!k) return Fail(Error::InvalidArgument(fmt::format("Kind '{}' is unknown.", kind)));
  e.kind = *k;
  CUTTLE_TRY(e.task_id, StringField(j, "TaskId"));
  CUTTLE_TRY(e.unit_key, StringField(j, "UnitKey"));
  CUTTLE_TRY(e.attempt, IntField(j, "Attempt", 1));
  CUTTLE_TRY(std::string syntax, StringField(j, "Syntax"));
  if (syntax.empty()) {
    e.syntax = engine::ScriptSyntax::kBash;
  } else if (auto s = engine::ParseScriptSyntax(syntax)) {
    e.syntax = *s;
  } else {
    return Fail(Error::InvalidArgument(fmt::format("Syntax '{}' cannot run on an agent.", syntax)));
  }
  CUTTLE_TRY(e.script_body, StringField(j, "ScriptBody"));
  if (auto it = j.find("Variables"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Fail(Error::InvalidArgument("Variables must be an array."));
    for (const auto& v : *it) {
      if (!v.is_object()) return Fail(Error::InvalidArgument("Variables must hold objects."));
      CUTTLE_TRY(std::string name, StringField(v, "Name", /*required=*/true));
      CUTTLE_TRY(std::string value, StringField(v, "Value"));
      CUTTLE_TRY(bool sensitive, BoolField(v, "Sensitive"));
      e.variables.Set(name, std::move(value), sensitive);
    }
  }
  if (auto it = j.find("Env"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Fail(Error::InvalidArgument("Env must be an object."));
    for (const auto& [name, value] : it->items()) {
      if (!value.is_string()) {
        return Fail(Error::InvalidArgument(fmt::format("Env {} must be a string.", name)));
      }
      e.env[name] = value.get<std::string>();
    }
  }
  CUTTLE_TRY(e.timeout_seconds, IntField(j, "TimeoutSeconds", 3600));
  if (auto it = j.find("Package"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Fail(Error::InvalidArgument("Package must be an object."));
    PackageInfo p;
    CUTTLE_TRY(p.space_id, StringField(*it, "SpaceId", true));
    CUTTLE_TRY(p.package_id, StringField(*it, "PackageId", true));
    CUTTLE_TRY(p.version, StringField(*it, "Version", true));
    CUTTLE_TRY(p.sha256, StringField(*it, "Sha256", true));
    CUTTLE_TRY(int64_t size, IntField(*it, "Size", 0));
    if (size < 0) return Fail(Error::InvalidArgument("Package Size must not be negative."));
    p.size = static_cast<uint64_t>(size);
    CUTTLE_TRY(p.file_name, StringField(*it, "FileName"));
    e.package = std::move(p);
  }
  if (e.kind == CommandKind::kPackage && !e.package) {
    return Fail(Error::InvalidArgument("A package command needs its Package."));
  }
  return e;
}

std::string_view CategoryName(engine::LogCategory c) {
  switch (c) {
    case engine::LogCategory::kVerbose:
      return "Verbose";
    case engine::LogCategory::kInfo:
      return "Info";
    case engine::LogCategory::kHighlight:
      return "Highlight";
    case engine::LogCategory::kWait:
      return "Wait";
    case engine::LogCategory::kWarning:
      return "Warning";
    case engine::LogCategory::kError:
      return "Error";
    case engine::LogCategory::kFatal:
      return "Fatal";
  }
  return "Info";
}

std::optional<engine::LogCategory> ParseCategory(std::string_view name) {
  using C = engine::LogCategory;
  for (C c : {C::kVerbose, C::kInfo, C::kHighlight, C::kWait, C::kWarning, C::kError, C::kFatal}) {
    if (CategoryName(c) == name) return c;
  }
  return std::nullopt;
}

std::string EncodeLine(const LogLine& line) {
  json j = {{"c", CategoryName(line.category)}, {"t", line.text}, {"ts", line.unix_ms}};
  // Invalid UTF-8 (a script's raw bytes) becomes U+FFFD instead of failing the dump.
  std::string out = j.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '\n';
  return out;
}

Result<std::vector<LogLine>> DecodeChunk(std::string_view chunk) {
  std::vector<LogLine> lines;
  size_t number = 0;
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    std::string_view text = chunk.substr(0, nl);
    chunk.remove_prefix(nl == std::string_view::npos ? chunk.size() : nl + 1);
    ++number;
    if (text.empty()) continue;
    auto parsed = core::ParseJson(text);
    auto bad = [&] {
      return Fail(
          Error::InvalidArgument(fmt::format("Line {} of the chunk is not a log line.", number)));
    };
    if (!parsed || !parsed->is_object()) return bad();
    const json& j = *parsed;
    auto c = j.find("c");
    auto t = j.find("t");
    auto ts = j.find("ts");
    if (c == j.end() || !c->is_string() || t == j.end() || !t->is_string()) return bad();
    auto category = ParseCategory(c->get<std::string>());
    if (!category) return bad();
    LogLine line;
    line.category = *category;
    line.text = t->get<std::string>();
    if (ts != j.end() && ts->is_number_integer()) line.unix_ms = ts->get<int64_t>();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string_view ResultStateName(ResultState s) {
  switch (s) {
    case ResultState::kSucceeded:
      return "succeeded";
    case ResultState::kFailed:
      return "failed";
    case ResultState::kCanceled:
      return "canceled";
    case ResultState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<ResultState> ParseResultState(std::string_view name) {
  using S = ResultState;
  for (S s : {S::kSucceeded, S::kFailed, S::kCanceled, S::kUnknown}) {
    if (ResultStateName(s) == name) return s;
  }
  return std::nullopt;
}

json ResultToJson(const CommandResult& r) {
  return {{"State", ResultStateName(r.state)},
          {"LastSeq", r.last_seq},
          {"Outcome", OutcomeToJson(r.outcome)},
          {"Facts", r.facts},
          {"Message", r.message}};
}

Result<CommandResult> ResultFromJson(const json& j) {
  if (!j.is_object()) return Fail(Error::InvalidArgument("The result must be an object."));
  CommandResult r;
  CUTTLE_TRY(std::string state, StringField(j, "State", /*required=*/true));
  auto s = ParseResultState(state);
  if (!s) return Fail(Error::InvalidArgument(fmt::format("State '{}' is unknown.", state)));
  r.state = *s;
  CUTTLE_TRY(r.last_seq, IntField(j, "LastSeq", -1));
  if (r.last_seq < -1) return Fail(Error::InvalidArgument("LastSeq must be -1 or more."));
  if (auto it = j.find("Outcome"); it != j.end() && !it->is_null()) {
    CUTTLE_TRY(r.outcome, OutcomeFromJson(*it));
  }
  if (auto it = j.find("Facts"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Fail(Error::InvalidArgument("Facts must be an object."));
    r.facts = *it;
  }
  CUTTLE_TRY(r.message, StringField(j, "Message"));
  return r;
}

}  // namespace cuttle::agentwire
