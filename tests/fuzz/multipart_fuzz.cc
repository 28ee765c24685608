// Fuzz target: multipart/form-data upload bodies (`feed::MultipartBoundary`,
// `feed::MultipartReader`). An input is "<Content-Type value>\n<body>". The body arrives in chunks
// of 1 to 4,033 bytes chosen by the bytes themselves, so delimiters straddle reads, into the
// smallest buffer the reader allows. Checks that the parts never hand out more bytes than the body
// holds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/error.h"
#include "feed/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto boundary = cuttle::feed::MultipartBoundary(input.substr(0, newline));
  if (!boundary) return 0;
  std::string_view body = input.substr(newline + 1);

  size_t offset = 0;
  auto source = [&](char* buf, size_t n) -> cuttle::Result<size_t> {
    if (offset == body.size()) return size_t{0};
    auto c = static_cast<unsigned char>(body[offset]);
    size_t chunk = 1 + (c & 0x3f) * ((c & 0x40) != 0 ? 64 : 1);
    chunk = std::min({chunk, n, body.size() - offset});
    std::memcpy(buf, body.data() + offset, chunk);
    offset += chunk;
    return chunk;
  };
  // The smallest buffer the reader allows (about 16 KiB), so that inputs of fuzzing size shift and
  // refill it; the default 256 KiB would also cost an mmap per run.
  cuttle::feed::MultipartReader reader(source, *boundary, /*buffer_bytes=*/0);
  size_t handed_out = 0;
  for (;;) {
    auto part = reader.NextPart();
    if (!part || !*part) break;
    for (;;) {
      auto bytes = reader.Read();
      if (!bytes || bytes->empty()) break;
      handed_out += bytes->size();
      CUTTLE_CHECK(handed_out <= body.size());
    }
  }
  (void)reader.DrainEpilogue();
  CUTTLE_CHECK(offset <= body.size());
  return 0;
}
