// File globs as Calamari's package conventions use them (reference-octopus-deployment-model.md
// §4.6–4.8): "substitute in files" targets, structured-configuration targets and the purge
// exclusions of a custom installation directory. A pattern is relative to a base directory unless
// it is absolute; '/' and '\\' both separate segments.
//   *      any run of characters inside one segment      ?      one character
//   [ab]   [a-c] [!a]  one character of (or not of) a set
//   **     a whole segment matching zero or more directories ("**/*.txt" also finds "r.txt")
//   {a,b}  alternatives; braces without a comma are literal ("{Configuration}/*.txt")
// Matching is case-sensitive (the file system's own rule on Linux) and '*' matches names that
// start with a dot. '**' does not descend into symbolic links to directories (no cycles).
// Pure functions over the file system; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cuttle::engine {

enum class GlobMatch {
  kFiles,  // regular files (and symbolic links to them) only
  kFilesAndDirectories,
};

// Absolute, lexically normal paths of what `pattern` matches under `base`, sorted, each once.
// A directory that cannot be read is skipped (no error: it simply has no matches).
std::vector<std::string> ExpandGlob(const std::string& base, std::string_view pattern,
                                    GlobMatch what = GlobMatch::kFiles);

// The patterns of a newline-separated list, as Octopus's GetPaths reads one: split on CR/LF,
// each trimmed, blanks dropped.
std::vector<std::string> SplitPathList(std::string_view text);

}  // namespace cuttle::engine
