// Small string and time helpers shared by every module. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::core {

std::string ToLower(std::string_view s);
// Escapes & < > " ' for XML and HTML text and attribute values (' as &#39;, valid in both).
std::string EscapeMarkup(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
std::vector<std::string> Split(std::string_view s, char sep, bool skip_empty = true);
std::string_view Trim(std::string_view s);
std::optional<int64_t> ParseInt(std::string_view s);

// Appends the code point `cp` as UTF-8 (1 to 4 bytes). The caller passes a valid code point
// (U+FFFD in place of anything else).
void AppendUtf8(std::string& out, char32_t cp);
// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF). PostgreSQL refuses any other text parameter with an error.
bool IsValidUtf8(std::string_view text);

// Why an archive entry named `path` (its bytes as stored) must not be extracted, e.g. "is an
// absolute path"; nullopt if it may. Refused: empty names, NUL bytes, absolute paths ("/x",
// "\\x", "C:x"), and any '..' segment, with '/' or '\\' as the separator (a segment of dots and
// spaces that holds ".." counts, since Windows drops trailing dots and spaces). The feed's archive
// check and the package step's extraction both use it.
std::optional<std::string> UnsafeArchivePath(std::string_view path);

// ISO 8601 in UTC with milliseconds and an explicit offset, as Octopus writes dates:
// "2026-11-27T02:41:25.123+00:00".
std::string FormatIso8601(int64_t unix_millis);
// FormatIso8601's text appended to `out`, without allocating.
void AppendIso8601(std::string& out, int64_t unix_millis);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]" (a missing offset means UTC) to Unix ms.
std::optional<int64_t> ParseIso8601(std::string_view text);
// Octopus's human duration ("2 seconds", "1 minute", "3 hours").
std::string FormatDuration(int64_t millis);

// The one base64 and hex codec (OpenSSL's encoders underneath). Base64 is the standard alphabet
// (RFC 4648 section 4). Decoding ignores spaces, tabs and line breaks anywhere, accepts missing
// padding, and returns nullopt for any other character, for '=' anywhere but the one or two final
// characters, and for a length no byte string encodes to.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
// Lower-case hex; decoding accepts either case and returns nullopt for an odd length or a non-hex
// character.
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

// Percent-decoding for URL paths and query strings ('+' means space only in queries).
std::string UrlDecode(std::string_view s, bool plus_is_space);
std::string UrlEncode(std::string_view s);

}  // namespace cuttle::core
