// Fuzz target: uploaded package files (`feed::CheckArchive` for every archive kind,
// `feed::ReadNuspec`) and .nuspec documents (`feed::ParseNuspec`). The inspection reads a file,
// so each input is written to one temporary file in memory-backed /dev/shm (the process's own,
// removed at exit).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/error.h"
#include "feed/package_file.h"

namespace {

// The process's one temporary file, removed at exit.
struct TempFile {
  TempFile() {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path = std::string(dir) + "/cuttle-package-fuzz-" + std::to_string(::getpid());
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

const std::string& TempPath() {
  static const TempFile file;
  return file.path;
}

void WriteInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(TempPath().c_str(), "wb");
  CUTTLE_CHECK(f != nullptr);
  CUTTLE_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size);
  CUTTLE_CHECK(std::fclose(f) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  WriteInput(data, size);
  const std::string& path = TempPath();
  for (std::string_view ext : {".zip", ".tar.gz", ".tar.bz2"}) {
    (void)cuttle::feed::CheckArchive(path, ext);
  }
  if (auto nuspec = cuttle::feed::ReadNuspec(path)) {
    CUTTLE_CHECK(cuttle::feed::IsValidPackageId(nuspec->id));
  }
  // The same bytes as the .nuspec document itself.
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  if (auto nuspec = cuttle::feed::ParseNuspec(xml)) {
    CUTTLE_CHECK(cuttle::feed::IsValidPackageId(nuspec->id));
    CUTTLE_CHECK(cuttle::feed::Version::Parse(nuspec->version).has_value());
  }
  return 0;
}
