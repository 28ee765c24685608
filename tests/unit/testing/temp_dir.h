// TempDir: a fresh directory under $TMPDIR removed (recursively) when the object dies.
#pragma once

#include <filesystem>
#include <string>

namespace cuttle::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The PostgreSQL URL of the server `make test` started (CUTTLE_TEST_PG_URL). Tests that need
// PostgreSQL call this; without it they fail, they never skip.
std::string TestPostgresUrl();

}  // namespace cuttle::testing
