#include "http/static_site.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "core/strings.h"

namespace cuttle::http {
namespace {

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kImmutableDir = "assets/";
// The app loads only what it ships and calls only its own node (the API is same-origin).
// 'unsafe-inline' styles: React's style props are set through CSSOM, but libraries may inject
// <style> elements; scripts stay strict.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

struct FileType {
  std::string_view extension;
  std::string_view content_type;
  bool compressible;
};

constexpr FileType kTypes[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json; charset=utf-8", true},
    {".map", "application/json; charset=utf-8", true},
    {".webmanifest", "application/manifest+json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".ico", "image/x-icon", true},
    {".png", "image/png", false},
    {".jpg", "image/jpeg", false},
    {".webp", "image/webp", false},
    {".woff2", "font/woff2", false},
    {".woff", "font/woff", false},
};

FileType TypeOf(std::string_view name) {
  for (const FileType& t : kTypes) {
    if (name.size() > t.extension.size() &&
        core::EqualsIgnoreCase(name.substr(name.size() - t.extension.size()), t.extension)) {
      return t;
    }
  }
  return {"", "application/octet-stream", false};
}

// A relative path made only of plain names (see the header for what is refused).
bool IsPlainPath(std::string_view rest) {
  if (rest.empty()) {
    return true;
  }
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) {
      end = rest.size();
    }
    std::string_view segment = rest.substr(start, end - start);
    if (segment.empty() || segment.front() == '.' ||
        segment.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

std::optional<struct stat> RegularFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return st;
}

// Changes whenever the file is replaced (a rebuild writes new files), per encoding.
std::string ETagOf(const struct stat& st, std::string_view encoding) {
  const auto mtime_ns =
      static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL + st.st_mtim.tv_nsec;
  return fmt::format("\"{:x}-{:x}{}{}\"", mtime_ns, static_cast<uint64_t>(st.st_size),
                     encoding.empty() ? "" : "-", encoding);
}

}  // namespace

std::vector<std::string> AcceptedEncodings(std::string_view accept_encoding) {
  std::optional<bool> br, gzip, any;  // allowed? (unset: not named)
  for (const std::string& part : core::Split(accept_encoding, ',')) {
    auto fields = core::Split(part, ';');
    if (fields.empty()) {
      continue;
    }
    std::string coding = core::ToLower(core::Trim(fields[0]));
    bool allowed = true;
    for (size_t i = 1; i < fields.size(); ++i) {
      std::string_view param = core::Trim(fields[i]);
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        // q=0, q=0.0, q=0.000 refuse; any other weight allows.
        std::string_view q = param.substr(2);
        allowed = q.find_first_not_of("0.") != std::string_view::npos;
      }
    }
    if (coding == "br") {
      br = allowed;
    } else if (coding == "gzip" || coding == "x-gzip") {
      gzip = allowed;
    } else if (coding == "*") {
      any = allowed;
    }
  }
  std::vector<std::string> out;
  if (br.value_or(any.value_or(false))) {
    out.emplace_back("br");
  }
  if (gzip.value_or(any.value_or(false))) {
    out.emplace_back("gzip");
  }
  return out;
}

StaticSite::StaticSite(std::string root, std::string shared_assets)
    : root_(std::move(root)), shared_assets_(std::move(shared_assets)) {
  for (std::string* dir : {&root_, &shared_assets_}) {
    while (dir->size() > 1 && dir->back() == '/') {
      dir->pop_back();
    }
  }
}

Result<PublishedAssets> StaticSite::PublishAssets(core::TimePoint now) const {
  namespace fs = std::filesystem;
  const fs::path from = fs::path(root_) / std::string(kImmutableDir);
  std::error_code ec;
  if (shared_assets_.empty() || !fs::is_directory(from, ec)) {
    return PublishedAssets{};
  }
  const fs::path to(shared_assets_);
  fs::create_directories(to, ec);
  if (ec) {
    return Fail(Error::Internal(
        fmt::format("cannot create the shared assets folder {}: {}", to.string(), ec.message())));
  }
  const auto marked = std::chrono::file_clock::from_sys(now);
  PublishedAssets done;
  std::set<std::string> own;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || !it->is_regular_file(ec)) {
      continue;
    }
    own.insert(name);
    const fs::path target = to / name;
    std::error_code size_ec;
    const auto have = fs::file_size(target, size_ec);
    if (size_ec || have != it->file_size(ec)) {
      const fs::path temp = to / fmt::format(".{}.{}.tmp", name, ::getpid());
      fs::copy_file(it->path(), temp, fs::copy_options::overwrite_existing, ec);
      if (!ec) {
        fs::rename(temp, target, ec);
      }
      if (ec) {
        fs::remove(temp, size_ec);
        return Fail(Error::Internal(
            fmt::format("cannot publish {} into {}: {}", name, to.string(), ec.message())));
      }
      ++done.copied;
    }
    // Names are content hashes, so a file of the same size is this build's: mark it current.
    fs::last_write_time(target, marked, size_ec);
  }
  if (ec) {
    return Fail(Error::Internal(fmt::format("cannot list {}: {}", from.string(), ec.message())));
  }

  const auto keep_before = std::chrono::file_clock::from_sys(now - kAssetRetention);
  const auto temp_before = std::chrono::file_clock::from_sys(now - std::chrono::hours(1));
  std::error_code list_ec;
  for (fs::directory_iterator it(to, list_ec), end; !list_ec && it != end; it.increment(list_ec)) {
    const std::string name = it->path().filename().string();
    std::error_code file_ec;
    if (own.contains(name) || !it->is_regular_file(file_ec)) {
      continue;
    }
    const auto modified = fs::last_write_time(it->path(), file_ec);
    const bool temporary = name.front() == '.' && name.ends_with(".tmp");
    if (file_ec || modified >= (temporary ? temp_before : keep_before)) {
      continue;
    }
    if (fs::remove(it->path(), file_ec)) {
      ++done.pruned;
    }
  }
  return done;
}

bool StaticSite::HasIndex() const {
  return RegularFile(root_ + "/" + std::string(kIndex)).has_value();
}

Response StaticSite::Serve(const Request& req, std::string_view rest) const {
  if (!IsPlainPath(rest)) {
    return Response::Error(404, "The resource '" + req.path + "' was not found.");
  }
  std::string name(rest.empty() ? kIndex : rest);
  std::string path = root_ + "/" + name;
  std::optional<struct stat> st = RegularFile(path);
  if (!st && name.starts_with(kImmutableDir) && !shared_assets_.empty()) {
    // Another build's asset (a rolling upgrade): what some node published.
    path = shared_assets_ + "/" + name.substr(kImmutableDir.size());
    st = RegularFile(path);
  }
  if (!st) {
    if (name.starts_with(kImmutableDir)) {
      return Response::Error(404, "The resource '" + req.path + "' was not found.");
    }
    // A client-side route: the app decides what it shows.
    name = kIndex;
    path = root_ + "/" + name;
    st = RegularFile(path);
    if (!st) {
      return Response::Error(404, "The web portal is not installed on this node.");
    }
  }

  const FileType type = TypeOf(name);
  std::string encoding;
  if (type.compressible) {
    for (const std::string& coding :
         AcceptedEncodings(req.Header("Accept-Encoding").value_or(""))) {
      std::string twin = path + (coding == "br" ? ".br" : ".gz");
      if (auto twin_st = RegularFile(twin)) {
        path = std::move(twin);
        st = twin_st;
        encoding = coding;
        break;
      }
    }
  }

  Response r;
  r.content_type = std::string(type.content_type);
  const std::string etag = ETagOf(*st, encoding);
  r.SetHeader("ETag", etag);
  r.SetHeader("Cache-Control",
              name.starts_with(kImmutableDir) ? "public, max-age=31536000, immutable" : "no-cache");
  if (type.compressible) {
    r.SetHeader("Vary", "Accept-Encoding");
  }
  r.SetHeader("X-Content-Type-Options", "nosniff");
  if (name == kIndex || name.ends_with(".html")) {
    r.SetHeader("Content-Security-Policy", std::string(kContentSecurityPolicy));
    r.SetHeader("X-Frame-Options", "DENY");
    r.SetHeader("Referrer-Policy", "no-referrer");
  }
  if (auto match = req.Header("If-None-Match"); match && IfNoneMatch(*match, etag)) {
    r.status = 304;
    return r;
  }
  if (!encoding.empty()) {
    r.SetHeader("Content-Encoding", encoding);
  }
  r.status = 200;
  r.file = FileBody{path, 0, static_cast<uint64_t>(st->st_size)};
  return r;
}

}  // namespace cuttle::http
