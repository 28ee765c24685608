// The deployment orchestrator on PostgreSQL: the same cases as on SQLite.
#include <fmt/format.h>

#include <thread>

#include "../engine/package_fixtures.h"
#include "agentwire/wire.h"
#include "core/json.h"
#include "deploy/health_kind.h"
#include "deploy/interruptions.h"
#include "deploy_fixture.h"
#include "model/machine.h"
#include "repo/machines.h"

namespace cuttle::deploy::testing {
namespace {

class PgDeployTest : public DeployTest {
 protected:
  PgDeployTest() {
    Init(::cuttle::testing::OpenMigrated(::cuttle::testing::NewPostgresDatabase()));
  }
};

#define DEPLOY_FIXTURE PgDeployTest
#include "agent_cases.inc"
#include "deploy_cases.inc"

}  // namespace
}  // namespace cuttle::deploy::testing
