// The SQLite backend of db::Database: a WAL database file shared by a small pool of connections.
// Readers run concurrently; writers are serialised by SQLite's single write lock (transactions
// begin IMMEDIATE, busy_timeout waits for the lock). now_ms() is a registered function reading
// OpenOptions::clock. Notifications are in-process only.
//
// Thread-safety: as db::Database — safe for concurrent use; a Transaction belongs to one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::db::sqlite {

// Opens (creating the file and its directory if missing) the database at `path`.
Result<std::unique_ptr<Database>> OpenSqlite(const OpenOptions& options, const std::string& path);

// Rewrites PostgreSQL-style $N placeholders to SQLite's ?N, leaving string literals, quoted
// identifiers and comments alone.
std::string RewritePlaceholders(std::string_view sql);

}  // namespace cuttle::db::sqlite
