// The agent protocol on PostgreSQL (agent_protocol_checks.h has the suite): NOTIFY through the
// server, the row locks of the fenced writes and the CAS of offers under READ COMMITTED.
#include "testing/test_db.h"

namespace cuttle::agents {
std::unique_ptr<db::Database> NewProtocolDatabase(const testing::TempDir&) {
  return testing::OpenMigrated(testing::NewPostgresDatabase());
}
}  // namespace cuttle::agents

#include "agents/agent_protocol_checks.h"
