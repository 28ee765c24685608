#include "core/ids.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <array>
#include <cctype>

#include "core/error.h"
#include "core/strings.h"

namespace cuttle::core {

namespace {
void RandomBytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    CUTTLE_CHECK(r > 0);
    got += static_cast<size_t>(r);
  }
}
}  // namespace

std::string MakeId(std::string_view collection, int64_t n) {
  return fmt::format("{}-{}", collection, n);
}

std::optional<int64_t> ParseId(std::string_view collection, std::string_view id) {
  if (id.size() <= collection.size() + 1 || id[collection.size()] != '-' ||
      !EqualsIgnoreCase(id.substr(0, collection.size()), collection)) {
    return std::nullopt;
  }
  auto digits = id.substr(collection.size() + 1);
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  auto n = ParseInt(digits);
  if (!n || *n <= 0) return std::nullopt;
  return n;
}

bool IsApiKeyFormat(std::string_view key) {
  if (key.size() < 4 + 26 || key.substr(0, 4) != "API-") return false;
  for (char c : key.substr(4)) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

std::string NewApiKey() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::array<unsigned char, 30> bytes;
  std::string key = "API-";
  // Rejection sampling keeps every character uniform over the 36-symbol alphabet.
  while (key.size() < 4 + bytes.size()) {
    RandomBytes(bytes.data(), bytes.size());
    for (unsigned char b : bytes) {
      if (b < 252 && key.size() < 4 + bytes.size()) key += kAlphabet[b % 36];
    }
  }
  return key;
}

std::string NewUuid() {
  std::array<unsigned char, 16> b;
  RandomBytes(b.data(), b.size());
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace cuttle::core
