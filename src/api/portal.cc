// The web portal's routes: every node serves the single-page app at /app (http::StaticSite holds
// the serving rules, <shared_dir>/portal-assets the assets of every build) and sends a browser
// that asks for the root there.
#include "api/handlers.h"
#include "core/log.h"
#include "http/static_site.h"

namespace cuttle::api {

void AddPortalRoutes(ApiContext& ctx, http::Router& router) {
  // Every node's hashed assets go into the shared store, so that during a rolling upgrade a page
  // from one build finds its scripts on a node of the other (static_site.h).
  auto site = std::make_shared<const http::StaticSite>(ctx.options.web_dir,
                                                       ctx.options.shared_dir + "/portal-assets");
  if (!site->HasIndex()) {
    CUTTLE_LOG_WARN(
        "server.web_dir: '{}' holds no index.html, so /app answers 404 (build the portal with "
        "`make`, or point --web-dir at a built one)",
        site->root());
  } else if (auto published = site->PublishAssets(core::SystemClock::Instance().Now());
             !published) {
    CUTTLE_LOG_WARN(
        "the portal's assets could not be published into the shared store, so during a rolling "
        "upgrade a page from another build may miss them: {}",
        published.error().message());
  } else if (published->copied > 0 || published->pruned > 0) {
    CUTTLE_LOG_INFO("published {} portal asset(s) into {}, removed {} of builds unused for {} days",
                    published->copied, site->shared_assets(), published->pruned,
                    http::kAssetRetention.count() / 24);
  }
  const http::Router::Options anonymous{
      .max_body_bytes = std::nullopt, .stream_body = false, .admit = {}, .probe = false};
  auto serve = [site](http::Request& req) { return site->Serve(req, req.Param("path")); };
  router.Add("GET", "/app/{*path}", serve, anonymous);
  router.Add(
      "GET", "/",
      [](http::Request&) {
        // Relative to the root, so no Host header (which the client controls) is echoed.
        http::Response r = http::Response::Text(302, "");
        r.SetHeader("Location", "/app");
        r.SetHeader("Cache-Control", "no-cache");
        return r;
      },
      anonymous);
}

}  // namespace cuttle::api
