#include "model/channel.h"

#include <regex>

#include "core/strings.h"

namespace cuttle::model {

nlohmann::json ChannelJson(const repo::ChannelRow& c) {
  const std::string base = "/api/" + c.space_id;
  nlohmann::json j = {
      {"Id", c.id},
      {"Name", c.name},
      {"Description", c.doc.value("Description", "")},
      {"ProjectId", c.project_id},
      {"LifecycleId", c.lifecycle_id ? nlohmann::json(*c.lifecycle_id) : nlohmann::json()},
      {"IsDefault", c.is_default},
      {"Rules", c.doc.value("Rules", nlohmann::json::array())},
      {"TenantTags", c.doc.value("TenantTags", nlohmann::json::array())},
      {"SpaceId", c.space_id},
      {"Links",
       {{"Self", base + "/channels/" + c.id},
        {"Project", base + "/projects/" + c.project_id},
        {"Releases", base + "/channels/" + c.id + "/releases{?skip,take,searchByVersion}"}}}};
  return j;
}

namespace {

Result<feed::Version> RangeVersion(std::string_view text, std::string_view whole) {
  auto v = feed::Version::Parse(core::Trim(text));
  if (!v) {
    return Fail(Error::InvalidArgument("the version range '" + std::string(whole) +
                                       "' is not valid: " + v.error().message()));
  }
  return v;
}

}  // namespace

Result<VersionRange> VersionRange::Parse(std::string_view text) {
  const std::string_view t = core::Trim(text);
  VersionRange r;
  if (t.empty()) return r;
  auto invalid = [&](std::string why) {
    return Fail(
        Error::InvalidArgument("the version range '" + std::string(t) + "' is not valid: " + why));
  };
  const char open = t.front();
  if (open != '[' && open != '(') {
    // A bare version is a minimum, inclusive.
    CUTTLE_TRY(r.min_, RangeVersion(t, t));
    r.min_inclusive_ = true;
    return r;
  }
  const char close = t.back();
  if (t.size() < 3 || (close != ']' && close != ')')) {
    return invalid("it must end with ']' or ')'");
  }
  r.min_inclusive_ = open == '[';
  r.max_inclusive_ = close == ']';
  const std::string_view inner = t.substr(1, t.size() - 2);
  const size_t comma = inner.find(',');
  if (comma == std::string_view::npos) {
    // "[1.0]" is exactly 1.0; "(1.0)" names no version at all.
    if (!r.min_inclusive_ || !r.max_inclusive_) return invalid("use [x] for exactly x");
    CUTTLE_TRY(r.min_, RangeVersion(inner, t));
    r.max_ = r.min_;
    return r;
  }
  if (inner.find(',', comma + 1) != std::string_view::npos) return invalid("too many commas");
  const std::string_view low = core::Trim(inner.substr(0, comma));
  const std::string_view high = core::Trim(inner.substr(comma + 1));
  if (low.empty() && high.empty()) return invalid("give a lower or an upper bound");
  if (!low.empty()) {
    CUTTLE_TRY(r.min_, RangeVersion(low, t));
  } else if (r.min_inclusive_) {
    return invalid("an open lower bound is written '('");
  }
  if (!high.empty()) {
    CUTTLE_TRY(r.max_, RangeVersion(high, t));
  } else if (r.max_inclusive_) {
    return invalid("an open upper bound is written ')'");
  }
  if (r.min_ && r.max_) {
    const auto order = *r.min_ <=> *r.max_;
    if (order > 0 || (order == 0 && !(r.min_inclusive_ && r.max_inclusive_))) {
      return invalid("the lower bound is above the upper bound");
    }
  }
  return r;
}

bool VersionRange::Contains(const feed::Version& v) const {
  if (min_) {
    const auto c = v <=> *min_;
    if (c < 0 || (c == 0 && !min_inclusive_)) return false;
  }
  if (max_) {
    const auto c = v <=> *max_;
    if (c > 0 || (c == 0 && !max_inclusive_)) return false;
  }
  return true;
}

namespace {

Result<std::regex> TagPattern(std::string_view tag) {
  try {
    return std::regex(std::string(tag), std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    return Fail(Error::InvalidArgument("the pre-release tag pattern '" + std::string(tag) +
                                       "' is not a valid regular expression"));
  }
}

// "beta.1+sha.5" of "1.2.3-beta.1+sha.5"; "+sha.5" of "1.2.3+sha.5"; "" of "1.2.3".
std::string TagPart(const feed::Version& v) {
  const std::string& s = v.original();
  const size_t dash = s.find('-');
  const size_t plus = s.find('+');
  if (dash != std::string::npos && (plus == std::string::npos || dash < plus)) {
    return s.substr(dash + 1);
  }
  if (plus != std::string::npos) return s.substr(plus);
  return "";
}

}  // namespace

Result<bool> VersionMatchesRule(const feed::Version& version, std::string_view range,
                                std::string_view tag) {
  CUTTLE_TRY(auto r, VersionRange::Parse(range));
  if (!r.Contains(version)) return false;
  if (core::Trim(tag).empty()) return true;
  CUTTLE_TRY(auto pattern, TagPattern(tag));
  return std::regex_search(TagPart(version), pattern);
}

std::optional<std::string> RuleProblem(std::string_view range, std::string_view tag) {
  if (auto r = VersionRange::Parse(range); !r) return r.error().message();
  if (!core::Trim(tag).empty()) {
    if (auto p = TagPattern(tag); !p) return p.error().message();
  }
  return std::nullopt;
}

}  // namespace cuttle::model
