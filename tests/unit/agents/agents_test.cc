// The agent protocol on SQLite (agent_protocol_checks.h has the suite).
#include "testing/test_db.h"

namespace cuttle::agents {
std::unique_ptr<db::Database> NewProtocolDatabase(const testing::TempDir& dir) {
  return testing::NewSqlite(dir);
}
}  // namespace cuttle::agents

#include "agents/agent_protocol_checks.h"
