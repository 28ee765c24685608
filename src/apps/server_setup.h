// Start-up steps shared by `cuttle-server run` and its administration subcommands: opening the
// database, resolving the master key and checking it against the database, then migrating. The
// key is checked before any migration runs, so a node given the wrong key refuses without having
// changed the schema. Errors are one line; the caller prints it and exits with ExitCodeFor().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "db/database.h"

namespace cuttle::apps {

// Exit codes: 2 for what the operator must fix in configuration (bad values, wrong master key,
// unusable storage, a database this node may not write), 1 for failures of the environment
// (database unreachable).
constexpr int kExitConfig = 2;
constexpr int kExitFailure = 1;

int ExitCodeFor(const Error& e);

Result<std::unique_ptr<db::Database>> OpenDatabase(const config::Options& o, int pool_size);

// The configured master key. With SQLite and no key configured, the default key file is read, or
// created when `create_if_missing`. With PostgreSQL a key must be configured.
Result<crypto::MasterKey> ResolveMasterKey(const config::Options& o, bool create_if_missing,
                                           bool* created = nullptr);

// The master key's check value stored in `db`, or nullopt when it has none yet (a new database).
// Only reads: safe before migrating.
Result<std::optional<std::string>> StoredKeyCheck(db::Database& db);

// Fails (naming security.master_key) when `key` is not the key `stored` was made from.
Result<void> MatchKeyCheck(const std::optional<std::string>& stored, const crypto::MasterKey& key);

// Makes this process non-dumpable, so the scripts it runs as its own user cannot read its
// environment (/proc/<pid>/environ: the master key, the database password) or memory, nor attach
// to it. No core dumps either: they would hold the same secrets. A root node is not protected.
void HideFromScripts();

// Stores the key's check value in a new database, or compares it with the stored one.
Result<void> VerifyMasterKey(db::Database& db, const crypto::MasterKey& key);

// Applies pending migrations, then stores `key`'s check value if the database has none yet (a
// database first migrated by `cuttle-server migrate` keeps the key it was given). A database this
// node may not write gets one line naming database.url and where it points.
Result<int> MigrateDatabase(const config::Options& o, db::Database& db,
                            const std::optional<crypto::MasterKey>& key);

// A database ready for a node: the key checked, the schema migrated, the check value stored.
struct NodeDatabase {
  std::unique_ptr<db::Database> db;
  crypto::MasterKey key;
  bool key_created = false;  // a new default key file was written
};
Result<NodeDatabase> OpenNodeDatabase(const config::Options& o, int pool_size);

// For administration commands, which need no master key: when one is configured (or the default
// key file exists) it is checked before migrating, and stored in a new database; none is ever
// created. Migrates if `migrate`.
struct AdminDatabase {
  std::unique_ptr<db::Database> db;
  std::optional<crypto::MasterKey> key;  // the configured key, checked
};
Result<AdminDatabase> OpenAdminDatabase(const config::Options& o, int pool_size, bool migrate);

}  // namespace cuttle::apps
