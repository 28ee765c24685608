#include "crypto/crypto.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/strings.h"
#include "storage/storage.h"

namespace cuttle::crypto {

namespace {
std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string Sha256(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha256Hex(std::string_view data) { return core::HexEncode(Sha256(data)); }
Result<std::string> Sha256HexOfFd(int fd) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Fail(Error::Internal("cannot start a SHA-256"));
  }
  std::string buf(1 << 20, '\0');
  off_t at = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Error::Io(fmt::format("cannot read to hash: {}", std::strerror(errno))));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    at += n;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return core::HexEncode(std::string_view(reinterpret_cast<char*>(out), len));
}

std::string Sha1Hex(std::string_view data) { return core::HexEncode(Digest(EVP_sha1(), data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  CUTTLE_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

MasterKey MasterKey::Generate() { return MasterKey(RandomBytes(32)); }

Result<MasterKey> MasterKey::Parse(std::string_view base64) {
  auto text = core::Trim(base64);
  auto bytes = core::Base64Decode(text);
  if (text.empty() || !bytes || bytes->size() != 32) {
    return Fail(Error::InvalidArgument(
        "the master key is not valid (expected base64 of 32 bytes, as printed by "
        "`cuttle-server master-key generate`)"));
  }
  return MasterKey(std::move(*bytes));
}

std::string MasterKey::ToBase64() const { return core::Base64Encode(bytes_); }

std::string MasterKey::CheckValue() const {
  return core::HexEncode(HmacSha256(bytes_, "cuttle-master-key-check-v1"));
}

Result<void> WriteMasterKeyFile(const std::string& path, const MasterKey& key) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // Never replaces an existing key: two nodes starting at once must not each write their own.
  auto file = storage::AtomicFile::Create(path, {.mode = 0600, .replace = false, .hint = "key"});
  Result<void> written = file ? file->Write(key.ToBase64() + "\n") : Fail(file.error());
  if (written) written = file->Commit();
  if (!written) {
    return Fail(written.error().Wrap(fmt::format("cannot write master key file '{}'", path)));
  }
  return {};
}

}  // namespace cuttle::crypto
