// repo/page.h on SQLite (the contract in page_contract.h).
#include "page_contract.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

struct SqliteEnv {
  std::unique_ptr<db::Database> Open() { return testing::NewSqlite(dir); }
  testing::TempDir dir;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, PageContractTest, SqliteEnv);

}  // namespace
}  // namespace cuttle::repo
