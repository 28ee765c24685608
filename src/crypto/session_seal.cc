#include "crypto/session_seal.h"

#include <sodium.h>

#include "core/strings.h"

namespace cuttle::crypto {

namespace {

constexpr char kContext[crypto_kdf_CONTEXTBYTES + 1] = "cuttlses";
constexpr uint64_t kSealKeyId = 1;
constexpr uint64_t kCsrfKeyId = 2;
constexpr const char* kNotValid = "The session cookie is not valid.";

std::string Derive(const MasterKey& master, uint64_t id) {
  static_assert(crypto_kdf_KEYBYTES == 32 && crypto_secretbox_KEYBYTES == 32 &&
                crypto_auth_KEYBYTES == 32);
  CUTTLE_CHECK(sodium_init() >= 0);
  CUTTLE_CHECK(master.bytes().size() == crypto_kdf_KEYBYTES);
  std::string sub(32, '\0');
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(sub.data()), sub.size(), id, kContext,
                             reinterpret_cast<const unsigned char*>(master.bytes().data()));
  return sub;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

SessionSeal::SessionSeal(const MasterKey& master)
    : seal_key_(Derive(master, kSealKeyId)), csrf_key_(Derive(master, kCsrfKeyId)) {}

SessionSeal::~SessionSeal() {
  sodium_memzero(seal_key_.data(), seal_key_.size());
  sodium_memzero(csrf_key_.data(), csrf_key_.size());
}

std::string SessionSeal::Seal(std::string_view plain) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, U(plain), plain.size(), nonce,
                        U(seal_key_));
  return Base64UrlEncode(out);
}

Result<std::string> SessionSeal::Open(std::string_view sealed) const {
  auto raw = Base64UrlDecode(sealed);
  if (!raw || raw->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return Fail(Error::Unauthenticated(kNotValid));
  }
  std::string_view box = std::string_view(*raw).substr(crypto_secretbox_NONCEBYTES);
  std::string plain(box.size() - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), U(box), box.size(),
                                 U(*raw), U(seal_key_)) != 0) {
    return Fail(Error::Unauthenticated(kNotValid));
  }
  return plain;
}

std::string SessionSeal::CsrfToken(std::string_view session_id) const {
  unsigned char mac[crypto_auth_BYTES];
  crypto_auth(mac, U(session_id), session_id.size(), U(csrf_key_));
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), sizeof(mac)));
}

bool SessionSeal::CsrfMatches(std::string_view session_id, std::string_view token) const {
  auto raw = Base64UrlDecode(token);
  if (!raw || raw->size() != crypto_auth_BYTES) return false;
  return crypto_auth_verify(U(*raw), U(session_id), session_id.size(), U(csrf_key_)) == 0;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out = core::Base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;
    }
  }
  while (s.size() % 4 != 0) s.push_back('=');
  return core::Base64Decode(s);
}

}  // namespace cuttle::crypto
