// Fuzz target: request targets (`http::ParseTarget`: path, query string, percent-decoding) and
// `core::UrlDecode` on its own. Decoding never makes a string longer, and every decoded query
// pair can be looked up again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/strings.h"
#include "http/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CUTTLE_CHECK(cuttle::core::UrlDecode(bytes, false).size() <= size);
  CUTTLE_CHECK(cuttle::core::UrlDecode(bytes, true).size() <= size);

  cuttle::http::Request req;
  req.target = std::string(bytes);
  cuttle::http::ParseTarget(req);
  CUTTLE_CHECK(req.path.size() <= size);
  CUTTLE_CHECK(req.raw_query.size() <= size);
  for (const auto& [key, value] : req.query) {
    CUTTLE_CHECK(!key.empty());
    CUTTLE_CHECK(req.Query(key).has_value());
  }
  // The parameters the handlers read.
  for (const char* key : {"skip", "take", "ids", "partialName", "apikey", "states"}) {
    (void)req.Query(key);
  }
  return 0;
}
