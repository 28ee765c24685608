// Dynamic compression of large API answers. A dashboard of 1,000 projects x 10 environments is
// 6 MB of JSON; gzip makes it a few hundred KB, which is what a browser behind a remote load
// balancer waits for. Static files come pre-compressed (StaticSite); this covers bodies built per
// request.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "http/http.h"

namespace cuttle::http {

// Bodies smaller than this go as they are: gzip's saving would not pay for its latency.
inline constexpr size_t kMinCompressedBytes = 8 * 1024;

// gzip of `data` (RFC 1952), at zlib's fastest level: JSON still shrinks ~10-20x and a 6 MB body
// takes tens of milliseconds, not hundreds.
Result<std::string> Gzip(std::string_view data);

// Compresses `r` in place when the client accepts gzip and it is worth it: a 2xx answer with a
// JSON or text body (in memory, not a file or a deferred answer) of at least kMinCompressedBytes
// and no Content-Encoding of its own. Adds "Vary: Accept-Encoding" to every answer it could have
// compressed, so a cache keeps the two forms apart. An ETag is left as it is: the API's tags name
// a resource's version (the dashboard's counter), not its bytes, a 304 must carry the same tag as
// the 200 it stands for, and no compressed answer serves Range requests.
//
// A shared body that something else also holds (the dashboard's, kept in the node's memory until
// the next change) is gzipped once: its gzip is kept, shared the same way, for as long as the
// body lives, so each client that sees a change does not pay for compressing it again.
void CompressForClient(const Request& req, Response& r);

}  // namespace cuttle::http
