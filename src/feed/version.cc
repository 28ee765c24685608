#include "feed/version.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

#include "core/strings.h"

namespace cuttle::feed {

namespace {

bool IsNumeric(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsIdentifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

Error Bad(std::string_view text, std::string_view why) {
  return Error::InvalidArgument(fmt::format("'{}' is not a valid version: {}", text, why));
}

// SemVer 2 §11.4: numeric identifiers compare as numbers and sort before alphanumeric ones.
std::strong_ordering CompareIdentifier(const std::string& a, const std::string& b) {
  bool na = IsNumeric(a);
  bool nb = IsNumeric(b);
  if (na && nb) {
    std::string_view ta = std::string_view(a).substr(std::min(a.find_first_not_of('0'), a.size()));
    std::string_view tb = std::string_view(b).substr(std::min(b.find_first_not_of('0'), b.size()));
    if (ta.size() != tb.size()) return ta.size() <=> tb.size();
    return ta <=> tb;
  }
  if (na != nb) return na ? std::strong_ordering::less : std::strong_ordering::greater;
  std::string la = core::ToLower(a);
  std::string lb = core::ToLower(b);
  return la <=> lb;
}

}  // namespace

Result<Version> Version::Parse(std::string_view text) {
  if (text.empty()) return Fail(Bad(text, "it is empty"));
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    return Fail(Bad(text, "it contains white space"));
  }
  Version v;
  v.original_ = std::string(text);
  std::string_view rest = text;
  if (size_t plus = rest.find('+'); plus != std::string_view::npos) {
    v.metadata_ = std::string(rest.substr(plus + 1));
    for (const auto& id : core::Split(v.metadata_, '.', false)) {
      if (!IsIdentifier(id))
        return Fail(Bad(text, "the build metadata must be dot-separated [0-9A-Za-z-] identifiers"));
    }
    rest = rest.substr(0, plus);
  }
  if (size_t dash = rest.find('-'); dash != std::string_view::npos) {
    for (auto& id : core::Split(rest.substr(dash + 1), '.', false)) {
      if (!IsIdentifier(id))
        return Fail(
            Bad(text, "the pre-release label must be dot-separated [0-9A-Za-z-] identifiers"));
      v.prerelease_.push_back(std::move(id));
    }
    rest = rest.substr(0, dash);
  }
  auto numbers = core::Split(rest, '.', false);
  if (numbers.size() < 2 || numbers.size() > 4) {
    return Fail(Bad(text, "expected MAJOR.MINOR[.PATCH[.REVISION]]"));
  }
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (!IsNumeric(numbers[i]) || numbers[i].size() > 9) {
      return Fail(
          Bad(text, "each of MAJOR.MINOR.PATCH.REVISION must be a number of at most 9 digits"));
    }
    v.parts_[i] = *core::ParseInt(numbers[i]);
  }
  return v;
}

std::string Version::Normalized() const {
  std::string s = fmt::format("{}.{}.{}", parts_[0], parts_[1], parts_[2]);
  if (parts_[3] != 0) fmt::format_to(std::back_inserter(s), ".{}", parts_[3]);
  for (size_t i = 0; i < prerelease_.size(); ++i) {
    s += i == 0 ? '-' : '.';
    s += prerelease_[i];
  }
  return s;
}

std::string Version::Key() const { return core::ToLower(Normalized()); }

std::string Version::SortKey() const {
  // Four fixed-width parts; then '~' for a release, which sorts after '-' that opens the
  // pre-release identifiers. Each identifier: numeric ones "0" + their length (3 digits) + their
  // digits without leading zeros, so they compare as numbers and before alphanumeric ones ("1" +
  // the lower-cased text). '!' between identifiers sorts below every identifier character, so a
  // shorter list, or a shorter identifier it prefixes, comes first (SemVer 2 section 11.4).
  std::string key =
      fmt::format("{:09}.{:09}.{:09}.{:09}", parts_[0], parts_[1], parts_[2], parts_[3]);
  if (prerelease_.empty()) return key + "~";
  key += '-';
  for (size_t i = 0; i < prerelease_.size(); ++i) {
    const std::string& id = prerelease_[i];
    if (i > 0) key += '!';
    if (IsNumeric(id)) {
      std::string_view digits =
          std::string_view(id).substr(std::min(id.find_first_not_of('0'), id.size()));
      key += fmt::format("0{:03}{}", digits.size(), digits);
    } else {
      key += '1' + core::ToLower(id);
    }
  }
  return key;
}

std::strong_ordering Version::operator<=>(const Version& other) const {
  for (int i = 0; i < 4; ++i) {
    if (auto c = parts_[i] <=> other.parts_[i]; c != 0) return c;
  }
  // A release outranks any of its pre-releases.
  if (prerelease_.empty() != other.prerelease_.empty()) {
    return prerelease_.empty() ? std::strong_ordering::greater : std::strong_ordering::less;
  }
  size_t n = std::min(prerelease_.size(), other.prerelease_.size());
  for (size_t i = 0; i < n; ++i) {
    if (auto c = CompareIdentifier(prerelease_[i], other.prerelease_[i]); c != 0) return c;
  }
  return prerelease_.size() <=> other.prerelease_.size();
}

}  // namespace cuttle::feed
