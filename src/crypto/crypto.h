// The master key and the hashing Cuttle needs (OpenSSL). Pure functions; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::crypto {

std::string Sha256(std::string_view data);  // 32 raw bytes
std::string Sha256Hex(std::string_view data);
// Of the whole file open as `fd` (read with pread from offset 0 to its end, 1 MiB at a time).
Result<std::string> Sha256HexOfFd(int fd);
std::string Sha1Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string RandomBytes(size_t n);

// The cluster's master key (DESIGN.md §3.4): 32 random bytes, written as base64. Every node of a
// cluster holds the same key; the database stores its check value so a node with another key
// refuses to start.
class MasterKey {
 public:
  static MasterKey Generate();
  // Accepts base64 (surrounding whitespace ignored) of exactly 32 bytes.
  static Result<MasterKey> Parse(std::string_view base64);

  std::string ToBase64() const;
  // HMAC-SHA256(key, "cuttle-master-key-check-v1") in hex: identifies the key without revealing it.
  std::string CheckValue() const;
  const std::string& bytes() const { return bytes_; }

 private:
  explicit MasterKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

// Writes a new key file with mode 0600, failing if it exists (never overwrites a key).
Result<void> WriteMasterKeyFile(const std::string& path, const MasterKey& key);

}  // namespace cuttle::crypto
