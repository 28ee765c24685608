// repo/page.h on PostgreSQL (the contract in page_contract.h).
#include "page_contract.h"
#include "testing/test_db.h"

namespace cuttle::repo {
namespace {

struct PostgresEnv {
  std::unique_ptr<db::Database> Open() {
    return testing::OpenMigrated(testing::NewPostgresDatabase(), 2);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, PageContractTest, PostgresEnv);

}  // namespace
}  // namespace cuttle::repo
