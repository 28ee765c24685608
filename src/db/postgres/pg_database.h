// The PostgreSQL backend of db::Database (libpq): a lazily filled connection pool, transparent
// replacement of broken connections, retries of transient failures with backoff, advisory-lock
// cluster locks, and NOTIFY/LISTEN wake-ups through one dedicated listener connection per
// Database, serviced by a background thread.
//
// Thread-safety: as db::Database — safe for concurrent use; a Transaction belongs to one thread.
#pragma once

#include <memory>
#include <string_view>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::db::postgres {

// Connects one pooled connection now (a single attempt: kUnavailable if the server cannot be
// reached), so a bad URL or credentials fail at startup rather than at first use.
Result<std::unique_ptr<Database>> OpenPostgres(const OpenOptions& options);

// True for SQLSTATEs worth retrying: class 08 (connection; not 08P01, protocol violation),
// 57P01/57P02/57P03 (shutdown, crash, starting up), 40001 (serialization), 40P01 (deadlock), 25006
// (read-only: still connected to a demoted primary after a failover), 53300 (too many connections).
bool IsTransientSqlState(std::string_view sqlstate);

}  // namespace cuttle::db::postgres
