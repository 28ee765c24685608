#include "http/compress.h"

#include <zlib.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "core/strings.h"
#include "http/static_site.h"

namespace cuttle::http {

Result<std::string> Gzip(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Fail(Error::Internal("zlib could not start a gzip stream"));
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return Fail(Error::Internal("zlib could not compress an answer"));
  }
  out.resize(written);
  return out;
}

namespace {

bool Compressible(std::string_view content_type) {
  return content_type.starts_with("application/json") || content_type.starts_with("text/");
}

const std::string* HeaderValue(const Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (core::EqualsIgnoreCase(n, name)) {
      return &v;
    }
  }
  return nullptr;
}

// Gzipped copies of shared bodies, each kept while its body lives (a weak key: a replaced
// dashboard's entry expires with it and is dropped at the next store).
class SharedGzips {
 public:
  using Body = std::shared_ptr<const std::string>;

  Body Find(const Body& body) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(body);
    return it == entries_.end() ? nullptr : it->second;
  }

  void Store(const Body& body, Body gzipped) {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [](const auto& e) { return e.first.expired(); });
    if (entries_.size() >= kMaxEntries) entries_.erase(entries_.begin());
    entries_.emplace(body, std::move(gzipped));
  }

 private:
  static constexpr size_t kMaxEntries = 64;
  std::mutex mu_;
  std::map<std::weak_ptr<const std::string>, Body, std::owner_less<>> entries_;
};

SharedGzips& Gzips() {
  static SharedGzips* gzips = new SharedGzips();  // never destroyed: used until exit
  return *gzips;
}

}  // namespace

void CompressForClient(const Request& req, Response& r) {
  if (r.later || r.file || r.status < 200 || r.status >= 300 || r.status == 204 ||
      !Compressible(r.content_type) || HeaderValue(r, "Content-Encoding") != nullptr) {
    return;
  }
  const std::string& body = r.shared_body ? *r.shared_body : r.body;
  // Larger than uInt's range goes as it is (one deflate call takes at most 4 GiB).
  if (body.size() < kMinCompressedBytes || body.size() > 0xFFFFFFFFULL) {
    return;
  }
  r.SetHeader("Vary", "Accept-Encoding");
  const auto accepted = AcceptedEncodings(req.Header("Accept-Encoding").value_or(""));
  if (std::find(accepted.begin(), accepted.end(), "gzip") == accepted.end()) {
    return;
  }
  // Held elsewhere too (use_count > 1): the same bytes will be answered again.
  const bool reused = r.shared_body && r.shared_body.use_count() > 1;
  std::shared_ptr<const std::string> gzipped = reused ? Gzips().Find(r.shared_body) : nullptr;
  if (!gzipped) {
    auto made = Gzip(body);
    if (!made || made->size() >= body.size()) {
      return;  // nothing gained (or zlib failed): the body goes as it is
    }
    gzipped = std::make_shared<const std::string>(std::move(*made));
    if (reused) Gzips().Store(r.shared_body, gzipped);
  }
  r.shared_body = std::move(gzipped);
  r.body.clear();
  r.SetHeader("Content-Encoding", "gzip");
}

}  // namespace cuttle::http
