// Text files that package conventions rewrite in place (variable substitution, structured
// configuration): read with their encoding detected from the byte-order mark, handed to the caller
// as UTF-8, and written back in the encoding they came in (reference-octopus-deployment-model.md
// §4.6, §4.7). A file without a BOM is taken as UTF-8 and its bytes pass through untouched, so a
// file in a legacy 8-bit code page survives a rewrite byte for byte wherever no variable changed
// it. Writes are atomic (temporary file, fsync, rename) and keep the file's permission bits. Pure
// functions over files; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::engine {

enum class TextEncoding {
  kUtf8,     // no byte-order mark
  kUtf8Bom,  // EF BB BF
  kUtf16Le,  // FF FE
  kUtf16Be,  // FE FF
  kAscii,    // only as an output encoding: other characters become '?'
};

struct TextFile {
  std::string text;  // UTF-8, without the byte-order mark
  TextEncoding encoding = TextEncoding::kUtf8;
};

// Reads `path`; errors are kIo and name the path.
Result<TextFile> ReadTextFile(const std::string& path);
// Replaces `path` (which exists) with `text` in `encoding`, keeping its permission bits.
Result<void> WriteTextFile(const std::string& path, std::string_view text, TextEncoding encoding);

// The encoding an Octopus user names in Octopus.Action.SubstituteInFiles.OutputEncoding (.NET's
// names, case-insensitive: "utf-8" writes a BOM as .NET's UTF8 encoding does, "utf-16"/"unicode",
// "utf-16BE"/"unicodeFFFE", "us-ascii"/"ascii"); nullopt for a name Cuttle cannot write.
std::optional<TextEncoding> TextEncodingByName(std::string_view name);

enum class LineEnding { kLf, kCrLf };
// The line ending used most in `text` (LF when there are none or it is a tie).
LineEnding DominantLineEnding(std::string_view text);

}  // namespace cuttle::engine
