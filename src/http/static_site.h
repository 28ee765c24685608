// StaticSite: a folder of built files served as a single-page app (the web portal at /app).
//
// The rules, each for a reason:
// - A path that names no file falls back to index.html, so a client-side route (/app/tasks/…)
//   loads the app on a reload or a shared link. Names under `assets/` do not fall back: a missing
//   script must be a 404, not HTML that the browser then fails to run.
// - `assets/` holds the bundler's hashed names, which never change content: cached for a year,
//   immutable. Everything else (index.html above all) is "no-cache": revalidated by ETag on every
//   use, so a new build reaches the browser on the next load.
// - A file built with a pre-compressed twin (`x.br`, `x.gz`) is answered with the twin when the
//   request's Accept-Encoding allows it (br before gzip), with "Vary: Accept-Encoding".
// - Only plain names are served: a segment that is empty, ".", "..", starts with '.', or holds a
//   backslash or NUL is refused (404), so nothing outside the folder is reachable.
//
// - Rolling upgrades: nodes of two builds serve at once, and an index.html from an upgraded node
//   names hashed assets that an old node does not have (and the reverse). So each node publishes
//   its `assets/` into a folder every node shares (PublishAssets, at start), and a name under
//   `assets/` missing from the node's own build is served from that folder, with the same rules
//   (immutable, compressed twins). Each start also marks its own build's published files as
//   current (their modification time) and removes other builds' files not marked for
//   kAssetRetention: no node has started with that build for a month, so no page of it is open.
//
// Thread-safety: immutable after construction; Serve may be called from any thread. It reads
// the file system on each call (stat), so a rebuild is served without a restart.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "http/http.h"

namespace cuttle::http {

// How long a published asset of another build is kept after a node of that build last started.
inline constexpr std::chrono::hours kAssetRetention{24 * 30};

struct PublishedAssets {
  int copied = 0;  // files of this build copied into the shared folder
  int pruned = 0;  // files of other builds (or a killed copy's leftovers) removed
};

class StaticSite {
 public:
  // `root`: the folder holding index.html (it may be missing: every answer is then 404).
  // `shared_assets`: the folder every node publishes its assets into ("" for none).
  explicit StaticSite(std::string root, std::string shared_assets = "");

  // `rest`: the path below the mount point, without a leading '/' ("" is the app's root).
  Response Serve(const Request& req, std::string_view rest) const;

  // True when `root` holds an index.html (checked at start to warn about an unbuilt portal).
  bool HasIndex() const;

  // Copies each file of `<root>/assets/` into `shared_assets` (created if missing): written under
  // a hidden temporary name, then renamed, so another node never serves half a file; a file that
  // is already there with the same size is not copied again. Every file of this build there gets
  // `now` as its modification time; then files not of this build last marked before
  // now - kAssetRetention are removed, and temporary files older than an hour (a node killed
  // while copying). An error (the shared folder cannot be written) names the path; nothing to
  // publish is not an error. A file that cannot be pruned is left for the next start.
  Result<PublishedAssets> PublishAssets(core::TimePoint now) const;

  const std::string& root() const { return root_; }
  const std::string& shared_assets() const { return shared_assets_; }

 private:
  std::string root_;
  std::string shared_assets_;
};

// The encodings a request's Accept-Encoding allows among "br" and "gzip", best first; a coding
// with q=0 is refused, "*" stands for any not named. Exposed for tests.
std::vector<std::string> AcceptedEncodings(std::string_view accept_encoding);

}  // namespace cuttle::http
