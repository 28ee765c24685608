#include "engine/file_glob.h"

#include <fnmatch.h>

#include <filesystem>
#include <set>
#include <span>

#include "core/strings.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;

// A pattern with more alternatives than this is a mistake, not a configuration.
constexpr size_t kMaxAlternatives = 4096;

// Expands the first brace group holding a top-level comma, then the rest, recursively.
void ExpandBraces(std::string_view pattern, const std::string& prefix,
                  std::vector<std::string>& out) {
  for (size_t open = 0; open < pattern.size(); ++open) {
    if (pattern[open] != '{') continue;
    int depth = 0;
    size_t close = std::string_view::npos;
    std::vector<size_t> commas;
    for (size_t j = open; j < pattern.size(); ++j) {
      if (pattern[j] == '{') {
        ++depth;
      } else if (pattern[j] == '}') {
        if (--depth == 0) {
          close = j;
          break;
        }
      } else if (pattern[j] == ',' && depth == 1) {
        commas.push_back(j);
      }
    }
    if (close == std::string_view::npos || commas.empty()) continue;  // literal braces
    const std::string head = prefix + std::string(pattern.substr(0, open));
    const std::string_view rest = pattern.substr(close + 1);
    commas.push_back(close);
    size_t start = open + 1;
    for (size_t end : commas) {
      if (out.size() >= kMaxAlternatives) return;
      std::string alternative(pattern.substr(start, end - start));
      alternative.append(rest);
      ExpandBraces(alternative, head, out);
      start = end + 1;
    }
    return;
  }
  if (out.size() < kMaxAlternatives) out.push_back(prefix + std::string(pattern));
}

bool HasWildcard(std::string_view segment) {
  return segment.find_first_of("*?[") != std::string_view::npos;
}

bool IsDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool IsRealDirectory(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_directory(ec) && !e.is_symlink(ec);
}

class Walker {
 public:
  Walker(GlobMatch what, std::set<std::string>& out) : what_(what), out_(out) {}

  void Walk(const fs::path& dir, std::span<const std::string> segments) {
    const std::string& segment = segments.front();
    const auto rest = segments.subspan(1);
    if (segment == "**") {
      if (rest.empty()) {
        AddTree(dir);
        return;
      }
      Walk(dir, rest);
      ForEachEntry(dir, [&](const fs::directory_entry& e) {
        if (IsRealDirectory(e)) Walk(e.path(), segments);
      });
      return;
    }
    if (!HasWildcard(segment)) {
      Visit(dir / segment, rest);
      return;
    }
    ForEachEntry(dir, [&](const fs::directory_entry& e) {
      const std::string name = e.path().filename().string();
      if (fnmatch(segment.c_str(), name.c_str(), FNM_NOESCAPE) == 0) Visit(e.path(), rest);
    });
  }

 private:
  void Visit(const fs::path& path, std::span<const std::string> rest) {
    if (rest.empty()) {
      Add(path);
    } else if (IsDirectory(path)) {
      Walk(path, rest);
    }
  }

  void AddTree(const fs::path& dir) {
    ForEachEntry(dir, [&](const fs::directory_entry& e) {
      Add(e.path());
      if (IsRealDirectory(e)) AddTree(e.path());
    });
  }

  void Add(const fs::path& path) {
    std::error_code ec;
    const bool wanted = what_ == GlobMatch::kFiles ? fs::is_regular_file(path, ec)
                                                   : fs::exists(fs::symlink_status(path, ec));
    if (wanted) out_.insert(path.lexically_normal().string());
  }

  template <class F>
  static void ForEachEntry(const fs::path& dir, F&& f) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return;
      f(*it);
    }
  }

  GlobMatch what_;
  std::set<std::string>& out_;
};

}  // namespace

std::vector<std::string> ExpandGlob(const std::string& base, std::string_view pattern,
                                    GlobMatch what) {
  std::set<std::string> found;
  std::vector<std::string> alternatives;
  ExpandBraces(pattern, "", alternatives);
  std::error_code ec;
  const fs::path root = fs::absolute(base, ec);
  for (const std::string& alternative : alternatives) {
    std::vector<std::string> segments;
    std::string current;
    for (char c : alternative) {
      if (c == '/' || c == '\\') {
        if (!current.empty()) segments.push_back(std::move(current));
        current.clear();
      } else {
        current += c;
      }
    }
    if (!current.empty()) segments.push_back(std::move(current));
    if (segments.empty()) continue;
    const bool absolute = alternative.front() == '/' || alternative.front() == '\\';
    Walker walker(what, found);
    walker.Walk(absolute ? fs::path("/") : root, segments);
  }
  return {found.begin(), found.end()};
}

std::vector<std::string> SplitPathList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\n' && text[i] != '\r') continue;
    std::string_view line = core::Trim(text.substr(start, i - start));
    if (!line.empty()) out.emplace_back(line);
    start = i + 1;
  }
  return out;
}

}  // namespace cuttle::engine
