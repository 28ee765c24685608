// A streaming multipart/form-data reader (RFC 7578) for uploads of any size: it holds one fixed
// buffer and hands out each part's bytes as views into it. The delimiter is searched across read
// boundaries, and the line break before a delimiter may be CRLF or a bare LF (nuget.exe on Mono
// sends "\n--boundary--" with nothing after it). Not thread-safe; one reader per request.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::feed {

// Pulls up to `n` bytes into `buf`; 0 at the end (http::BodyReader has this shape).
using ByteSource = std::function<Result<size_t>(char* buf, size_t n)>;

// The boundary parameter of a multipart/form-data Content-Type, or an error naming the problem.
Result<std::string> MultipartBoundary(std::string_view content_type);

struct PartHeaders {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // Content-Disposition filename, if any
  std::string content_type;
};

class MultipartReader {
 public:
  static constexpr size_t kDefaultBufferBytes = 256 * 1024;

  MultipartReader(ByteSource source, std::string boundary,
                  size_t buffer_bytes = kDefaultBufferBytes);

  // Skips the rest of the current part (or the preamble) and reads the next part's headers;
  // nullopt after the closing delimiter.
  Result<std::optional<PartHeaders>> NextPart();
  // The next bytes of the current part as a view valid until the next call; empty at its end.
  Result<std::string_view> Read();
  // Reads (and discards) whatever follows the closing delimiter, so the connection stays usable.
  Result<void> DrainEpilogue();

 private:
  // Reads more from the source; false at the end of the source.
  Result<bool> Fill();

  ByteSource source_;
  std::string delimiter_;  // "\n--" + boundary
  std::string buf_;
  size_t pos_ = 0;         // first unconsumed byte
  size_t end_ = 0;         // end of valid bytes
  size_t scanned_ = 0;     // no delimiter starts in [pos_, scanned_)
  bool in_part_ = true;    // the preamble counts as a part to skip
  bool finished_ = false;  // closing delimiter seen
  bool source_done_ = false;
};

}  // namespace cuttle::feed
