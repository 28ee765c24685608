#include "crypto/secret_box.h"

#include <openssl/evp.h>

#include <memory>

#include "core/strings.h"

namespace cuttle::crypto {

namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx NewCtx() { return CipherCtx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// The version prefix is authenticated too, so a value cannot be relabelled as another scheme's.
constexpr std::string_view kAad = SecretBox::kPrefix;

}  // namespace

SecretBox::SecretBox(const MasterKey& master)
    : key_(HmacSha256(master.bytes(), "cuttle-variables-v1")) {}

std::string SecretBox::Seal(std::string_view plain) const {
  std::string nonce = RandomBytes(kNonceBytes);
  std::string out = nonce;
  out.resize(kNonceBytes + plain.size() + kTagBytes);
  auto ctx = NewCtx();
  int len = 0;
  CUTTLE_CHECK(ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                                         Bytes(nonce)) == 1);
  CUTTLE_CHECK(
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(kAad), static_cast<int>(kAad.size())) == 1);
  unsigned char* body = Bytes(out) + kNonceBytes;
  CUTTLE_CHECK(
      EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plain), static_cast<int>(plain.size())) == 1);
  int tail = 0;
  CUTTLE_CHECK(EVP_EncryptFinal_ex(ctx.get(), body + len, &tail) == 1);
  CUTTLE_CHECK(
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plain.size()) == 1);
  return std::string(kPrefix) + core::Base64Encode(out);
}

Result<std::string> SecretBox::Open(std::string_view sealed) const {
  auto refused = [] {
    return Fail(Error::InvalidArgument(
        "a sealed value could not be opened (malformed, altered, or sealed under another "
        "master key)"));
  };
  if (!sealed.starts_with(kPrefix)) return refused();
  auto raw = core::Base64Decode(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return refused();
  std::string_view all(*raw);
  std::string_view nonce = all.substr(0, kNonceBytes);
  std::string_view body = all.substr(kNonceBytes, all.size() - kNonceBytes - kTagBytes);
  std::string tag(all.substr(all.size() - kTagBytes));
  std::string plain(body.size(), '\0');
  auto ctx = NewCtx();
  int len = 0;
  CUTTLE_CHECK(ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                                         Bytes(nonce)) == 1);
  CUTTLE_CHECK(
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(kAad), static_cast<int>(kAad.size())) == 1);
  if (EVP_DecryptUpdate(ctx.get(), Bytes(plain), &len, Bytes(body),
                        static_cast<int>(body.size())) != 1) {
    return refused();
  }
  CUTTLE_CHECK(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, Bytes(tag)) == 1);
  int tail = 0;
  // The tag check: fails for any altered byte or another key.
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(plain) + len, &tail) != 1) return refused();
  return plain;
}

}  // namespace cuttle::crypto
