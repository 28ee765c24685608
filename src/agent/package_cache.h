// The agent's package cache (docs/agent.md, GET /packages): <home>/packages/<sha256>, content
// addressed and reused across commands. A download goes to <sha256>.partial, resumes from its size
// with a Range request, is verified against the envelope's SHA-256 and renamed into place; a file
// that fails verification is deleted and the command fails. Safe to use from several threads and
// processes at once (a download holds an flock on its .partial).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agentwire/wire.h"
#include "core/error.h"

namespace cuttle::agent {

// What a download writes into.
class DownloadSink {
 public:
  virtual ~DownloadSink() = default;
  // Called once before any data: where the bytes that follow start (the requested offset when
  // the server honoured the range, 0 when it sent the whole file). false: refuse the transfer.
  virtual bool Start(uint64_t offset) = 0;
  virtual bool Write(std::string_view data) = 0;
};

// Fetches the package's bytes from `offset` on into `sink`. Errors are transport failures (the
// .partial is kept for the next attempt). A server answering "range not satisfiable" (the
// partial file is complete) is Start(offset) with no data.
using RangeFetch = std::function<Result<void>(uint64_t offset, DownloadSink& sink)>;

// The path of the verified package file, downloading it first if the cache does not hold it.
// A mismatch: kInvalidArgument "the package <id> <version> failed verification ...".
Result<std::string> FetchPackage(const std::string& cache_dir, const agentwire::PackageInfo& p,
                                 const RangeFetch& fetch);

// Lower-case hex SHA-256 of the file's bytes.
Result<std::string> FileSha256(const std::string& path);

}  // namespace cuttle::agent
