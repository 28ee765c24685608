// The deployment orchestrator on PostgreSQL: the same cases as on SQLite.
#include <fmt/format.h>

#include "../engine/package_fixtures.h"
#include "deploy/interruptions.h"
#include "deploy_fixture.h"

namespace cuttle::deploy::testing {
namespace {

class PgDeployTest : public DeployTest {
 protected:
  PgDeployTest() {
    Init(::cuttle::testing::OpenMigrated(::cuttle::testing::NewPostgresDatabase()));
  }
};

#define DEPLOY_FIXTURE PgDeployTest
#include "deploy_cases.inc"

}  // namespace
}  // namespace cuttle::deploy::testing
