#include "model/release_version.h"

#include <chrono>
#include <cstdlib>
#include <vector>

#include "core/strings.h"

namespace cuttle::model {

namespace {

// A loosely read version: up to four numeric parts (missing ones 0) and the pre-release label.
// Release versions are free text in Octopus, so what does not parse counts as 0.0.0.
struct Parts {
  int64_t n[4] = {0, 0, 0, 0};
  std::string suffix;  // "-beta.1" or ""
};

Parts ReadParts(const std::optional<std::string>& text) {
  Parts p;
  if (!text) return p;
  std::string core = *text;
  if (auto plus = core.find('+'); plus != std::string::npos) core.resize(plus);
  if (auto dash = core.find('-'); dash != std::string::npos) {
    p.suffix = core.substr(dash);
    core.resize(dash);
  }
  size_t i = 0;
  for (const auto& part : core::Split(core, '.')) {
    if (i == 4) break;
    char* end = nullptr;
    long long v = std::strtoll(part.c_str(), &end, 10);
    p.n[i++] = (end != part.c_str() && *end == '\0' && v >= 0) ? v : 0;
  }
  return p;
}

std::optional<std::string> VersionToken(std::string_view rest, const Parts& p) {
  bool next;
  if (core::EqualsIgnoreCase(rest.substr(0, 4), "Last")) {
    next = false;
  } else if (core::EqualsIgnoreCase(rest.substr(0, 4), "Next")) {
    next = true;
  } else {
    return std::nullopt;
  }
  std::string_view what = rest.substr(4);
  if (core::EqualsIgnoreCase(what, "Suffix")) return p.suffix;
  int index = -1;
  if (core::EqualsIgnoreCase(what, "Major")) index = 0;
  if (core::EqualsIgnoreCase(what, "Minor")) index = 1;
  if (core::EqualsIgnoreCase(what, "Patch")) index = 2;
  if (core::EqualsIgnoreCase(what, "Build") || core::EqualsIgnoreCase(what, "Revision")) index = 3;
  if (index < 0) return std::nullopt;
  return std::to_string(p.n[index] + (next ? 1 : 0));
}

std::optional<std::string> Resolve(std::string_view name, const VersionContext& c,
                                   const Parts& project, const Parts& channel) {
  auto starts = [&](std::string_view prefix) {
    return name.size() > prefix.size() &&
           core::EqualsIgnoreCase(name.substr(0, prefix.size()), prefix);
  };
  if (starts("Octopus.Version.Channel.")) {
    return VersionToken(name.substr(std::string_view("Octopus.Version.Channel.").size()), channel);
  }
  if (starts("Octopus.Version.")) {
    return VersionToken(name.substr(std::string_view("Octopus.Version.").size()), project);
  }
  if (core::EqualsIgnoreCase(name, "Octopus.Release.Channel.Name")) return c.channel_name;
  using namespace std::chrono;
  const sys_time<milliseconds> now{milliseconds(c.now_ms)};
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> time{now - day};
  auto two = [](int64_t v) {
    std::string s = std::to_string(v);
    if (v < 10) s.insert(s.begin(), '0');
    return s;
  };
  if (core::EqualsIgnoreCase(name, "Octopus.Date.Year")) return std::to_string(int(ymd.year()));
  if (core::EqualsIgnoreCase(name, "Octopus.Date.Month")) return two(unsigned(ymd.month()));
  if (core::EqualsIgnoreCase(name, "Octopus.Date.Day")) return two(unsigned(ymd.day()));
  if (core::EqualsIgnoreCase(name, "Octopus.Date.DayOfYear")) {
    const auto jan1 = sys_days{ymd.year() / January / 1};
    return std::to_string((day - jan1).count() + 1);
  }
  if (core::EqualsIgnoreCase(name, "Octopus.Time.Hour")) return two(time.hours().count());
  if (core::EqualsIgnoreCase(name, "Octopus.Time.Minute")) return two(time.minutes().count());
  if (core::EqualsIgnoreCase(name, "Octopus.Time.Second")) return two(time.seconds().count());
  return std::nullopt;
}

// "2.1.c.i": mask characters against the last version's parts.
std::string ApplyMask(const std::string& text, const Parts& last) {
  std::string out;
  size_t i = 0;
  for (const auto& part : core::Split(text, '.', false)) {
    std::string v = part;
    if (i < 4 && (part == "i" || part == "I")) v = std::to_string(last.n[i] + 1);
    if (i < 4 && (part == "c" || part == "C")) v = std::to_string(last.n[i]);
    if (i > 0) out += '.';
    out += v;
    ++i;
  }
  return out;
}

}  // namespace

Result<std::string> ExpandVersionTemplate(const std::string& template_text,
                                          const VersionContext& context) {
  const Parts project = ReadParts(context.last_version);
  const Parts channel = ReadParts(context.channel_last_version);
  std::string out;
  bool had_token = false;
  size_t pos = 0;
  while (pos < template_text.size()) {
    size_t open = template_text.find("#{", pos);
    if (open == std::string::npos) {
      out += template_text.substr(pos);
      break;
    }
    out += template_text.substr(pos, open - pos);
    size_t close = template_text.find('}', open + 2);
    if (close == std::string::npos) {
      return Fail(Error::InvalidArgument("The versioning template '" + template_text +
                                         "' has an unterminated #{ token."));
    }
    const std::string name(core::Trim(template_text.substr(open + 2, close - open - 2)));
    auto value = Resolve(name, context, project, channel);
    if (!value) {
      return Fail(Error::InvalidArgument(
          "The versioning template '" + template_text + "' uses '#{" + name +
          "}', which Cuttle cannot evaluate: the template may use Octopus.Version.*, "
          "Octopus.Version.Channel.*, Octopus.Release.Channel.Name, Octopus.Date.* and "
          "Octopus.Time.*. Give the release version explicitly instead."));
    }
    out += *value;
    had_token = true;
    pos = close + 1;
  }
  if (!had_token) out = ApplyMask(out, project);
  out = std::string(core::Trim(out));
  if (out.empty()) {
    return Fail(Error::InvalidArgument("The versioning template '" + template_text +
                                       "' gives an empty version."));
  }
  return out;
}

}  // namespace cuttle::model
