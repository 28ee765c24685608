#include "apps/server_setup.h"

#include <fmt/format.h>
#include <sys/prctl.h>

#include <filesystem>

#include "repo/repo.h"

namespace cuttle::apps {

int ExitCodeFor(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kIo:
    case ErrorCode::kConflict:
      return kExitConfig;
    default:
      return kExitFailure;
  }
}

Result<std::unique_ptr<db::Database>> OpenDatabase(const config::Options& o, int pool_size) {
  db::OpenOptions open;
  open.url = o.database_url;
  open.pool_size = pool_size;
  auto database = db::Open(open);
  if (!database) {
    if (database.error().code() == ErrorCode::kInvalidArgument) {
      return Fail(
          Error::InvalidArgument(fmt::format("database.url: {}", database.error().message())));
    }
    return Fail(database.error().Wrap("database.url: cannot open the database"));
  }
  return database;
}

Result<crypto::MasterKey> ResolveMasterKey(const config::Options& o, bool create_if_missing,
                                           bool* created) {
  if (created) *created = false;
  if (o.master_key) {
    auto key = crypto::MasterKey::Parse(*o.master_key);
    if (!key) return Fail(key.error().Wrap("security.master_key"));
    return key;
  }
  if (o.master_key_file) return crypto::ReadMasterKeyFile(*o.master_key_file);
  if (!o.is_sqlite()) {
    return Fail(Error::InvalidArgument(
        "security.master_key: no master key is configured, and a node on PostgreSQL needs the "
        "cluster's key. Run `cuttle-server master-key show` on a node of the cluster (or copy its "
        "key file) and give the key to this node with --master-key-file FILE, CUTTLE_MASTER_KEY "
        "or security.master_key_file; for a new cluster, `cuttle-server master-key generate` "
        "makes one."));
  }
  const std::string& path = o.default_master_key_file;
  if (std::filesystem::exists(path)) return crypto::ReadMasterKeyFile(path);
  if (!create_if_missing) {
    return Fail(Error::InvalidArgument(fmt::format(
        "security.master_key_file: '{}' does not exist (a node creates it on first start)", path)));
  }
  auto key = crypto::MasterKey::Generate();
  CUTTLE_TRY_VOID(crypto::WriteMasterKeyFile(path, key));
  if (created) *created = true;
  return key;
}

void HideFromScripts() { ::prctl(PR_SET_DUMPABLE, 0); }

Result<void> VerifyMasterKey(db::Database& db, const crypto::MasterKey& key) {
  std::string stored;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    CUTTLE_TRY(stored, repo::PutSettingIfAbsent(tx, "master_key_check", key.CheckValue()));
    return {};
  }));
  if (stored != key.CheckValue()) {
    return Fail(Error::InvalidArgument(
        "security.master_key: the master key does not match this database (it was created with "
        "another key). Give this node the cluster's key: `cuttle-server master-key show` on a "
        "node of the cluster prints it."));
  }
  return {};
}

}  // namespace cuttle::apps
