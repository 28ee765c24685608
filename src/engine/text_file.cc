#include "engine/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "storage/storage.h"

namespace cuttle::engine {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// The next code point of UTF-8 `s` at `i` (advancing it); a malformed sequence is one U+FFFD.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i++]);
  if (b < 0x80) return b;
  int extra = b >= 0xF0 && b < 0xF8 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : -1;
  if (extra < 0 || i + static_cast<size_t>(extra) > s.size()) return kReplacement;
  char32_t c = b & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    const auto next = static_cast<unsigned char>(s[i]);
    if ((next & 0xC0) != 0x80) return kReplacement;
    c = (c << 6) | (next & 0x3F);
    ++i;
  }
  return c;
}

std::string DecodeUtf16(std::string_view bytes, bool little_endian) {
  std::string out;
  auto unit = [&](size_t at) -> char32_t {
    const auto lo = static_cast<unsigned char>(bytes[at + (little_endian ? 0 : 1)]);
    const auto hi = static_cast<unsigned char>(bytes[at + (little_endian ? 1 : 0)]);
    return static_cast<char32_t>(hi << 8 | lo);
  };
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    char32_t c = unit(i);
    if (c >= 0xD800 && c < 0xDC00 && i + 3 < bytes.size()) {
      const char32_t low = unit(i + 2);
      if (low >= 0xDC00 && low < 0xE000) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      } else {
        c = kReplacement;
      }
    } else if (c >= 0xD800 && c < 0xE000) {
      c = kReplacement;
    }
    core::AppendUtf8(out, c);
  }
  if (bytes.size() % 2 != 0) core::AppendUtf8(out, kReplacement);
  return out;
}

std::string EncodeUtf16(std::string_view text, bool little_endian) {
  std::string out = little_endian ? "\xFF\xFE" : "\xFE\xFF";
  auto put = [&](char32_t u) {
    const char lo = static_cast<char>(u & 0xFF);
    const char hi = static_cast<char>(u >> 8);
    out += little_endian ? lo : hi;
    out += little_endian ? hi : lo;
  };
  for (size_t i = 0; i < text.size();) {
    const char32_t c = NextCodePoint(text, i);
    if (c >= 0x10000) {
      put(0xD800 + ((c - 0x10000) >> 10));
      put(0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      put(c);
    }
  }
  return out;
}

std::string Encode(std::string_view text, TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return std::string(text);
    case TextEncoding::kUtf8Bom:
      return "\xEF\xBB\xBF" + std::string(text);
    case TextEncoding::kUtf16Le:
      return EncodeUtf16(text, true);
    case TextEncoding::kUtf16Be:
      return EncodeUtf16(text, false);
    case TextEncoding::kAscii: {
      std::string out;
      for (size_t i = 0; i < text.size();) {
        const char32_t c = NextCodePoint(text, i);
        out += c < 0x80 ? static_cast<char>(c) : '?';
      }
      return out;
    }
  }
  return std::string(text);
}

}  // namespace

Result<TextFile> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Io("cannot read '" + path + "': " + std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = std::move(buffer).str();
  if (in.bad()) return Fail(Error::Io("cannot read '" + path + "'"));
  std::string_view view(bytes);
  if (view.starts_with("\xEF\xBB\xBF")) return TextFile{bytes.substr(3), TextEncoding::kUtf8Bom};
  if (view.starts_with("\xFF\xFE")) {
    return TextFile{DecodeUtf16(view.substr(2), true), TextEncoding::kUtf16Le};
  }
  if (view.starts_with("\xFE\xFF")) {
    return TextFile{DecodeUtf16(view.substr(2), false), TextEncoding::kUtf16Be};
  }
  return TextFile{std::move(bytes), TextEncoding::kUtf8};
}

Result<void> WriteTextFile(const std::string& path, std::string_view text, TextEncoding encoding) {
  struct stat st {};
  uint32_t mode = 0644;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  storage::AtomicFile::Options options;
  options.mode = mode;
  options.hint = "subst";
  auto wrap = [&path](const Error& e) { return e.Wrap("rewriting '" + path + "'"); };
  auto file = storage::AtomicFile::Create(path, options);
  if (!file) return Fail(wrap(file.error()));
  if (auto w = file->Write(Encode(text, encoding)); !w) return Fail(wrap(w.error()));
  // The temporary file is created with the process umask applied; put the bits back.
  if (::fchmod(file->fd(), mode) != 0) {
    return Fail(Error::Io("cannot set the mode of '" + path + "': " + std::strerror(errno)));
  }
  if (auto c = file->Commit(); !c) return Fail(wrap(c.error()));
  return {};
}

std::optional<TextEncoding> TextEncodingByName(std::string_view name) {
  const std::string n = core::ToLower(core::Trim(name));
  if (n == "utf-8" || n == "utf8") return TextEncoding::kUtf8Bom;
  if (n == "utf-16" || n == "unicode" || n == "utf-16le") return TextEncoding::kUtf16Le;
  if (n == "utf-16be" || n == "unicodefffe") return TextEncoding::kUtf16Be;
  if (n == "us-ascii" || n == "ascii") return TextEncoding::kAscii;
  return std::nullopt;
}

LineEnding DominantLineEnding(std::string_view text) {
  size_t crlf = 0;
  size_t lf = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') continue;
    if (i > 0 && text[i - 1] == '\r') {
      ++crlf;
    } else {
      ++lf;
    }
  }
  return crlf > lf ? LineEnding::kCrLf : LineEnding::kLf;
}

}  // namespace cuttle::engine
