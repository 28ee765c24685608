#include "apps/server_setup.h"

#include <fmt/format.h>
#include <sys/prctl.h>

#include <filesystem>

#include "db/migrations.h"
#include "repo/settings.h"

namespace cuttle::apps {

int ExitCodeFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kIo:
    case ErrorCode::kConflict:
    case ErrorCode::kPermissionDenied:
      return kExitConfig;
    default:
      return kExitFailure;
  }
}

namespace {

// One line for a database this node may not use as it must (a read-only SQLite file or directory,
// a PostgreSQL role without the rights), found at start-up before anything half-happens. It
// becomes a configuration error (exit 2), which also keeps it from being wrapped twice.
template <class T>
Result<T> NameDatabase(const config::Options& o, Result<T> r) {
  if (r || r.error().code() != ErrorCode::kPermissionDenied) return r;
  return Fail(Error::InvalidArgument(
      fmt::format("database.url: this node may not write to the database at '{}' ({}); give it "
                  "a writable database, or a database user with the rights",
                  db::DescribeUrl(o.database_url), r.error().message())));
}

Result<std::unique_ptr<db::Database>> OpenUnnamed(const config::Options& o, int pool_size) {
  db::OpenOptions open;
  open.url = o.database_url;
  open.pool_size = pool_size;
  auto database = db::Open(open);
  if (!database) {
    const Error& e = database.error();
    if (e.code() == ErrorCode::kPermissionDenied) return Fail(e);
    if (e.code() == ErrorCode::kInvalidArgument) {
      return Fail(Error::InvalidArgument(fmt::format("database.url: {}", e.message())));
    }
    return Fail(e.Wrap("database.url: cannot open the database"));
  }
  return database;
}

Result<int> MigrateUnnamed(db::Database& db, const std::optional<crypto::MasterKey>& key) {
  CUTTLE_TRY(int version, db::Migrate(db));
  if (key) CUTTLE_TRY_VOID(VerifyMasterKey(db, *key));
  return version;
}

// OpenNodeDatabase without naming database.url on a permission error.
Result<NodeDatabase> OpenNodeDatabaseUnnamed(const config::Options& o, int pool_size) {
  CUTTLE_TRY(auto database, OpenUnnamed(o, pool_size));
  CUTTLE_TRY(auto stored, StoredKeyCheck(*database));
  // A database that already has a check value needs the key it was made with, never a new one.
  bool created = false;
  CUTTLE_TRY(auto key, ResolveMasterKey(o, /*create_if_missing=*/!stored, &created));
  CUTTLE_TRY_VOID(MatchKeyCheck(stored, key));
  // A new database gets the check value here; a node racing us to it is compared against ours.
  // On a database that has one, this write transaction is also the start-up's proof that the node
  // may write (a read-only role is refused here, naming database.url, not at its first task).
  CUTTLE_TRY_VOID(MigrateUnnamed(*database, key));
  return NodeDatabase{std::move(database), std::move(key), created};
}

Result<AdminDatabase> OpenAdminDatabaseUnnamed(const config::Options& o, int pool_size,
                                               bool migrate) {
  CUTTLE_TRY(auto database, OpenUnnamed(o, pool_size));
  std::optional<crypto::MasterKey> key;
  if (o.master_key || o.master_key_file ||
      (o.is_sqlite() && std::filesystem::exists(o.default_master_key_file))) {
    CUTTLE_TRY(auto stored, StoredKeyCheck(*database));
    CUTTLE_TRY(key, ResolveMasterKey(o, /*create_if_missing=*/false));
    CUTTLE_TRY_VOID(MatchKeyCheck(stored, *key));
  }
  if (migrate) CUTTLE_TRY_VOID(MigrateUnnamed(*database, key));
  return AdminDatabase{std::move(database), std::move(key)};
}

// A key file, or with "-" one line of standard input (kept out of `ps` and files), read as every
// secret file is: bounded, trimmed.
Result<crypto::MasterKey> ReadKeyFile(const std::string& path) {
  CUTTLE_TRY(auto text, config::ReadSecretFile("security.master_key_file", path));
  auto key = crypto::MasterKey::Parse(text);
  if (!key) {
    return Fail(key.error().Wrap(path == "-"
                                     ? std::string("security.master_key_file (standard input)")
                                     : fmt::format("security.master_key_file '{}'", path)));
  }
  return key;
}

}  // namespace

Result<std::unique_ptr<db::Database>> OpenDatabase(const config::Options& o, int pool_size) {
  return NameDatabase(o, OpenUnnamed(o, pool_size));
}

Result<crypto::MasterKey> ResolveMasterKey(const config::Options& o, bool create_if_missing,
                                           bool* created) {
  if (created) *created = false;
  if (o.master_key) {
    auto key = crypto::MasterKey::Parse(*o.master_key);
    if (!key) return Fail(key.error().Wrap("security.master_key"));
    return key;
  }
  if (o.master_key_file) return ReadKeyFile(*o.master_key_file);
  if (!o.is_sqlite()) {
    return Fail(Error::InvalidArgument(
        "security.master_key: no master key is configured, and a node on PostgreSQL needs the "
        "cluster's key. Run `cuttle-server master-key show` on a node of the cluster (or copy its "
        "key file) and give the key to this node with --master-key-file FILE, CUTTLE_MASTER_KEY "
        "or security.master_key_file; for a new cluster, `cuttle-server master-key generate` "
        "makes one."));
  }
  const std::string& path = o.default_master_key_file;
  if (std::filesystem::exists(path)) return ReadKeyFile(path);
  if (!create_if_missing) {
    return Fail(Error::InvalidArgument(fmt::format(
        "security.master_key_file: '{}' does not exist (a node creates one only when it starts on "
        "a new database)",
        path)));
  }
  auto key = crypto::MasterKey::Generate();
  CUTTLE_TRY_VOID(crypto::WriteMasterKeyFile(path, key));
  if (created) *created = true;
  return key;
}

void HideFromScripts() { ::prctl(PR_SET_DUMPABLE, 0); }

Result<std::optional<std::string>> StoredKeyCheck(db::Database& db) {
  // Version 1 creates cluster_settings; an older (empty) database has no check value yet.
  CUTTLE_TRY(int version, db::CurrentSchemaVersion(db));
  if (version == 0) return std::optional<std::string>();
  return repo::GetSetting(db, "master_key_check");
}

Result<void> MatchKeyCheck(const std::optional<std::string>& stored, const crypto::MasterKey& key) {
  if (stored && *stored != key.CheckValue()) {
    return Fail(Error::InvalidArgument(
        "security.master_key: the master key does not match this database (it was created with "
        "another key). Give this node the cluster's key: `cuttle-server master-key show` on a "
        "node of the cluster prints it."));
  }
  return {};
}

Result<void> VerifyMasterKey(db::Database& db, const crypto::MasterKey& key) {
  std::string stored;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(stored, repo::PutSettingIfAbsent(tx, "master_key_check", key.CheckValue()));
    return {};
  }));
  return MatchKeyCheck(stored, key);
}

Result<int> MigrateDatabase(const config::Options& o, db::Database& db,
                            const std::optional<crypto::MasterKey>& key) {
  return NameDatabase(o, MigrateUnnamed(db, key));
}

Result<NodeDatabase> OpenNodeDatabase(const config::Options& o, int pool_size) {
  return NameDatabase(o, OpenNodeDatabaseUnnamed(o, pool_size));
}

Result<AdminDatabase> OpenAdminDatabase(const config::Options& o, int pool_size, bool migrate) {
  return NameDatabase(o, OpenAdminDatabaseUnnamed(o, pool_size, migrate));
}

}  // namespace cuttle::apps
