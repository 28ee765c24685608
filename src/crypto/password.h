// Password hashing with Argon2id (libsodium's crypto_pwhash_str): the hash string carries its
// salt and cost, so a hash made at one cost verifies after the default changes. Thread-safe; at
// most kMaxConcurrentHashes hashes run at once in a process, so a burst of sign-ins cannot make a
// node hold 64 MiB per handler thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::crypto {

struct PasswordCost {
  unsigned long long ops;
  size_t mem_bytes;
  // libsodium's interactive limits (2 passes, 64 MiB): the production cost.
  static PasswordCost Interactive();
  // The smallest cost libsodium accepts: for tests only.
  static PasswordCost Minimum();
};

inline constexpr int kMaxConcurrentHashes = 4;

// "$argon2id$v=19$m=...,t=...,p=1$salt$hash". Fails (kInternal) only when memory runs out.
Result<std::string> HashPassword(std::string_view password,
                                 PasswordCost cost = PasswordCost::Interactive());
// Whether `password` matches `hash`; false for any malformed hash.
bool VerifyPassword(std::string_view hash, std::string_view password);

// A random password of `length` letters and digits (the admin's first one).
std::string RandomPassword(size_t length = 20);

}  // namespace cuttle::crypto
