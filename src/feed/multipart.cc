#include "feed/multipart.h"

#include <algorithm>
#include <cstring>

#include "core/strings.h"

namespace cuttle::feed {

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;

Error Malformed(std::string_view why) {
  return Error::InvalidArgument("The multipart request body is malformed: " + std::string(why));
}

// The value of `param` in a header value such as `form-data; name="a"; filename="b.zip"`.
std::optional<std::string> HeaderParam(std::string_view value, std::string_view param) {
  size_t i = 0;
  while (i < value.size()) {
    size_t semi = value.find(';', i);
    if (semi == std::string_view::npos) semi = value.size();
    std::string_view item = core::Trim(value.substr(i, semi - i));
    i = semi + 1;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (!core::EqualsIgnoreCase(core::Trim(item.substr(0, eq)), param)) continue;
    std::string_view v = core::Trim(item.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"') {
      // Quoted: the value may contain ';', so take it up to the closing quote from the original.
      size_t start = value.find('"', static_cast<size_t>(v.data() - value.data()));
      std::string out;
      for (size_t k = start + 1; k < value.size(); ++k) {
        if (value[k] == '\\' && k + 1 < value.size()) {
          out += value[++k];
        } else if (value[k] == '"') {
          return out;
        } else {
          out += value[k];
        }
      }
      return out;
    }
    return std::string(v);
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (!core::EqualsIgnoreCase(core::Trim(content_type.substr(0, semi)), "multipart/form-data")) {
    return Fail(Error::InvalidArgument(
        "The package must be uploaded as multipart/form-data (the Content-Type is '" +
        std::string(content_type) + "')."));
  }
  auto boundary = HeaderParam(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) {
    return Fail(Error::InvalidArgument(
        "The multipart/form-data Content-Type has no valid boundary parameter."));
  }
  return *boundary;
}

MultipartReader::MultipartReader(ByteSource source, std::string boundary, size_t buffer_bytes)
    : source_(std::move(source)), delimiter_("\n--" + boundary) {
  buf_.resize(std::max(buffer_bytes, 4 * delimiter_.size() + kMaxHeaderBytes));
  // A delimiter at the very start of the body has no line break before it: pretend one.
  buf_[0] = '\n';
  end_ = 1;
}

Result<bool> MultipartReader::Fill() {
  if (source_done_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    scanned_ = scanned_ > pos_ ? scanned_ - pos_ : 0;
    pos_ = 0;
  }
  if (end_ == buf_.size()) return Fail(Error::Internal("multipart buffer full"));
  CUTTLE_TRY(size_t n, source_(buf_.data() + end_, buf_.size() - end_));
  if (n == 0) {
    source_done_ = true;
    return false;
  }
  end_ += n;
  return true;
}

Result<std::string_view> MultipartReader::Read() {
  if (!in_part_) return std::string_view();
  for (;;) {
    size_t from = std::max(pos_, scanned_);
    const char* base = buf_.data();
    const void* hit = end_ > from
                          ? ::memmem(base + from, end_ - from, delimiter_.data(), delimiter_.size())
                          : nullptr;
    if (hit != nullptr) {
      size_t at = static_cast<size_t>(static_cast<const char*>(hit) - base);
      size_t data_end = at > pos_ && base[at - 1] == '\r' ? at - 1 : at;
      if (data_end > pos_) {
        std::string_view out(base + pos_, data_end - pos_);
        pos_ = data_end;
        scanned_ = data_end;
        return out;
      }
      // At the delimiter: the part is over; leave pos_ on "--boundary".
      pos_ = at + 1;
      scanned_ = pos_;
      in_part_ = false;
      return std::string_view();
    }
    // No delimiter starts before end_ - (len - 1); keep the tail (and a CR before it) for later.
    size_t keep = delimiter_.size();
    size_t safe = end_ > keep ? end_ - keep : 0;
    scanned_ = std::max(scanned_, safe);
    if (safe > pos_) {
      std::string_view out(base + pos_, safe - pos_);
      pos_ = safe;
      return out;
    }
    CUTTLE_TRY(bool more, Fill());
    if (!more) return Fail(Malformed("it ended inside a part (no closing boundary)."));
  }
}

Result<std::optional<PartHeaders>> MultipartReader::NextPart() {
  if (finished_) return std::optional<PartHeaders>();
  while (in_part_) {
    CUTTLE_TRY(auto chunk, Read());
    if (chunk.empty() && in_part_) return Fail(Malformed("unexpected end of a part."));
  }
  // pos_ is on "--boundary"; after it comes "--" (the end) or a line break and headers.
  const size_t dlen = delimiter_.size() - 1;
  while (end_ - pos_ < dlen + 2) {
    CUTTLE_TRY(bool more, Fill());
    if (!more) {
      // nuget.exe ends with "--boundary--" and nothing after it; anything shorter is truncated.
      return Fail(Malformed("it ended right after a boundary."));
    }
  }
  pos_ += dlen;
  if (buf_[pos_] == '-' && buf_[pos_ + 1] == '-') {
    pos_ += 2;
    finished_ = true;
    return std::optional<PartHeaders>();
  }
  // Headers end at an empty line (CRLF CRLF, or LF LF from lenient clients).
  size_t header_end = std::string::npos;
  size_t body_start = 0;
  for (;;) {
    std::string_view view(buf_.data() + pos_, end_ - pos_);
    size_t a = view.find("\r\n\r\n");
    size_t b = view.find("\n\n");
    if (a != std::string_view::npos && (b == std::string_view::npos || a < b)) {
      header_end = a;
      body_start = a + 4;
      break;
    }
    if (b != std::string_view::npos) {
      header_end = b;
      body_start = b + 2;
      break;
    }
    if (view.size() > kMaxHeaderBytes) return Fail(Malformed("a part's headers are too large."));
    CUTTLE_TRY(bool more, Fill());
    if (!more) return Fail(Malformed("it ended inside a part's headers."));
  }
  std::string_view block(buf_.data() + pos_, header_end);
  PartHeaders h;
  for (const auto& raw : core::Split(block, '\n')) {
    std::string_view line = core::Trim(raw);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = core::Trim(line.substr(0, colon));
    std::string_view value = core::Trim(line.substr(colon + 1));
    if (core::EqualsIgnoreCase(name, "Content-Disposition")) {
      h.name = HeaderParam(value, "name").value_or("");
      h.filename = HeaderParam(value, "filename");
    } else if (core::EqualsIgnoreCase(name, "Content-Type")) {
      h.content_type = std::string(value);
    }
  }
  // An empty part is "\r\n\r\n" then "\r\n--boundary": Read finds that delimiter at once.
  pos_ += body_start;
  scanned_ = pos_;
  in_part_ = true;
  return std::optional<PartHeaders>(std::move(h));
}

Result<void> MultipartReader::DrainEpilogue() {
  while (!source_done_) {
    pos_ = end_ = scanned_ = 0;
    CUTTLE_TRY_VOID(Fill());
  }
  return {};
}

}  // namespace cuttle::feed
