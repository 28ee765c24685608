// The deployment orchestrator on SQLite: real scripts, a real package, the durable units.
#include <fmt/format.h>

#include "../engine/package_fixtures.h"
#include "deploy/interruptions.h"
#include "deploy_fixture.h"

namespace cuttle::deploy::testing {
namespace {

class SqliteDeployTest : public DeployTest {
 protected:
  SqliteDeployTest() { Init(::cuttle::testing::NewSqlite(dir_)); }
};

#define DEPLOY_FIXTURE SqliteDeployTest
#include "deploy_cases.inc"

}  // namespace
}  // namespace cuttle::deploy::testing
