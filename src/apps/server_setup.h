// Start-up steps shared by `cuttle-server run` and its administration subcommands: opening the
// database, resolving the master key and checking it against the database. Errors are one line;
// the caller prints it and exits with the code in StartupError.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "db/database.h"

namespace cuttle::apps {

// Exit codes: 2 for what the operator must fix in configuration (bad values, wrong master key,
// unusable storage), 1 for failures of the environment (database unreachable).
constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;

int ExitCodeFor(const Error& e);

Result<std::unique_ptr<db::Database>> OpenDatabase(const config::Options& o, int pool_size);

// The configured master key. With SQLite and no key configured, the default key file is read, or
// created when `create_if_missing`. With PostgreSQL a key must be configured.
Result<crypto::MasterKey> ResolveMasterKey(const config::Options& o, bool create_if_missing,
                                           bool* created = nullptr);

// Makes this process non-dumpable, so the scripts it runs as its own user cannot read its
// environment (/proc/<pid>/environ: the master key, the database password) or memory, nor attach
// to it. No core dumps either: they would hold the same secrets. A root node is not protected.
void HideFromScripts();

// Stores the key's check value in a new database, or compares it with the stored one.
Result<void> VerifyMasterKey(db::Database& db, const crypto::MasterKey& key);

}  // namespace cuttle::apps
