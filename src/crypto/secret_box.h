// Sealing sensitive values (sensitive variables, secret properties) for storage: AES-256-GCM under
// a sub-key derived from the cluster's master key, so every node can open what any node sealed.
//
// A sealed value is one string: "cv1:" + base64(nonce[12] | ciphertext | tag[16]). The version
// prefix names the key derivation and the layout, so a later scheme can sit beside this one. The
// nonce is random per value (96 bits; the birthday bound is far beyond any variable count).
//
// Immutable after construction; safe for concurrent use from many threads.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "crypto/crypto.h"

namespace cuttle::crypto {

class SecretBox {
 public:
  // The sub-key is HMAC-SHA256(master, "cuttle-variables-v1"): the master key itself encrypts
  // nothing, so the key check value and sessions stay independent of stored secrets.
  explicit SecretBox(const MasterKey& master);

  std::string Seal(std::string_view plain) const;
  // Fails (kInvalidArgument, saying nothing of the content) when `sealed` is malformed, was sealed
  // under another key, or was altered.
  Result<std::string> Open(std::string_view sealed) const;

  static constexpr std::string_view kPrefix = "cv1:";

 private:
  std::string key_;  // 32 bytes
};

}  // namespace cuttle::crypto
