// The deployment orchestrator on SQLite: real scripts, a real package, the durable units.
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

class SqliteDeployTest : public DeployTest {
 protected:
  SqliteDeployTest() { Init(::cuttle::testing::NewSqlite(dir_)); }
};

#define DEPLOY_FIXTURE SqliteDeployTest
#include "agent_cases.inc"
#include "deploy_cases.inc"

}  // namespace
}  // namespace cuttle::deploy::testing
