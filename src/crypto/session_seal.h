// The keys behind sign-in sessions, derived from the cluster's master key with libsodium's
// crypto_kdf (context "cuttlses"), so every node seals and opens the same cookies and a session
// survives the node that opened it:
//  - sub-key 1 seals the session cookie (crypto_secretbox: XSalsa20-Poly1305, encrypted and
//    authenticated; a random 24-byte nonce per cookie);
//  - sub-key 2 makes a session's CSRF token, an HMAC (crypto_auth) of its session id, so the token
//    needs no storage and matches only its own session.
// Sealed values and tokens are base64url without padding (cookie-safe).
//
// Immutable after construction; safe for concurrent use from many threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "crypto/crypto.h"

namespace cuttle::crypto {

class SessionSeal {
 public:
  explicit SessionSeal(const MasterKey& master);
  ~SessionSeal();
  SessionSeal(const SessionSeal&) = delete;
  SessionSeal& operator=(const SessionSeal&) = delete;

  std::string Seal(std::string_view plain) const;
  // Fails (kUnauthenticated, saying nothing of the content) when `sealed` is malformed, was
  // sealed under another master key, or was altered.
  Result<std::string> Open(std::string_view sealed) const;

  std::string CsrfToken(std::string_view session_id) const;
  // Constant-time comparison with CsrfToken(session_id).
  bool CsrfMatches(std::string_view session_id, std::string_view token) const;

 private:
  std::string seal_key_;  // 32 bytes each, wiped on destruction
  std::string csrf_key_;
};

// base64url without padding (RFC 4648 §5).
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace cuttle::crypto
