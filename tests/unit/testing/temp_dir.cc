#include "testing/temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <system_error>

namespace cuttle::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/cuttle-test-XXXXXX";
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TestPostgresUrl() {
  const char* url = std::getenv("CUTTLE_TEST_PG_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "CUTTLE_TEST_PG_URL is not set: run PostgreSQL tests through `make test` "
                     "(scripts/with-postgres.sh starts a throwaway server)";
    return "postgresql://invalid-host-for-tests:1/none";
  }
  return url;
}

}  // namespace cuttle::testing
