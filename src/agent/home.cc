#include "agent/home.h"

#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>

#include "agent/journal.h"
#include "core/json.h"
#include "storage/storage.h"

namespace cuttle::agent {

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<AgentConfig> LoadConfig(const std::string& home) {
  const std::string path = home + "/agent.json";
  auto text = ReadWholeFile(path);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return Fail(Error::NotFound(fmt::format(
          "{} does not exist: register this agent first (cuttle-agent register)", path)));
    }
    return Fail(text.error());
  }
  auto json = core::ParseJson(*text);
  if (!json || !json->is_object()) {
    return Fail(Error::InvalidArgument(fmt::format("{} is not a JSON object", path)));
  }
  AgentConfig c;
  c.server_url = core::StringMember(*json, "ServerUrl");
  c.machine_id = core::StringMember(*json, "MachineId");
  c.space_id = core::StringMember(*json, "SpaceId");
  c.name = core::StringMember(*json, "Name");
  c.thumbprint = core::StringMember(*json, "Thumbprint");
  auto num = [&](const char* key, int fallback) {
    auto it = json->find(key);
    return it != json->end() && it->is_number_integer() && it->get<int>() > 0 ? it->get<int>()
                                                                              : fallback;
  };
  c.poll_seconds = num("PollSeconds", agentwire::kPollSeconds);
  c.lease_seconds = num("LeaseSeconds", agentwire::kLeaseSeconds);
  c.heartbeat_seconds = num("HeartbeatSeconds", agentwire::kHeartbeatSeconds);
  if (c.server_url.empty() || c.machine_id.empty()) {
    return Fail(Error::InvalidArgument(fmt::format("{} has no ServerUrl or MachineId", path)));
  }
  return c;
}

Result<void> SaveConfig(const std::string& home, const AgentConfig& c) {
  nlohmann::json j = {{"ServerUrl", c.server_url},       {"MachineId", c.machine_id},
                      {"SpaceId", c.space_id},           {"Name", c.name},
                      {"Thumbprint", c.thumbprint},      {"PollSeconds", c.poll_seconds},
                      {"LeaseSeconds", c.lease_seconds}, {"HeartbeatSeconds", c.heartbeat_seconds}};
  return WriteFileDurably(home + "/agent.json", j.dump(2) + "\n", 0644);
}

Result<agentwire::KeyPair> LoadKey(const std::string& home, bool create) {
  const std::string path = home + "/agent.key";
  auto text = ReadWholeFile(path);
  if (!text && text.error().code() == ErrorCode::kNotFound && create) {
    std::error_code ec;
    std::filesystem::create_directories(home, ec);
    ::chmod(home.c_str(), 0700);
    agentwire::KeyPair key = agentwire::GenerateKeyPair();
    storage::AtomicFile::Options options;
    options.mode = 0600;
    options.replace = false;  // two registers at once keep one key
    CUTTLE_TRY(auto file, storage::AtomicFile::Create(path, options));
    CUTTLE_TRY_VOID(file.Write(Base64(key.secret_key) + "\n"));
    auto committed = file.Commit();
    if (!committed && committed.error().code() != ErrorCode::kAlreadyExists) {
      return Fail(committed.error());
    }
    text = ReadWholeFile(path);
  }
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return Fail(Error::NotFound(fmt::format(
          "{} does not exist: register this agent first (cuttle-agent register)", path)));
    }
    return Fail(text.error());
  }
  std::string b64 = *text;
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r' || b64.back() == ' ')) {
    b64.pop_back();
  }
  std::string secret(crypto_sign_SECRETKEYBYTES, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(), b64.data(),
                        b64.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != crypto_sign_SECRETKEYBYTES) {
    return Fail(Error::InvalidArgument(fmt::format("{} does not hold an Ed25519 key", path)));
  }
  agentwire::KeyPair key;
  key.secret_key = secret;
  key.public_key = secret.substr(crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES);
  return key;
}

}  // namespace cuttle::agent
