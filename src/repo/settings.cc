#include "repo/settings.h"

#include "core/ids.h"

namespace cuttle::repo {

Result<std::optional<std::string>> GetSetting(db::Database& db, const std::string& key) {
  CUTTLE_TRY(auto rs, db.Execute("SELECT value FROM cluster_settings WHERE key = $1", {key}));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.front().GetString(0));
}

Result<std::string> PutSettingIfAbsent(db::Transaction& tx, const std::string& key,
                                       const std::string& value) {
  CUTTLE_TRY_VOID(tx.Execute(
      "INSERT INTO cluster_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
      {key, value}));
  CUTTLE_TRY(auto rs, tx.Execute("SELECT value FROM cluster_settings WHERE key = $1", {key}));
  if (rs.empty()) return Fail(Error::Internal("setting vanished after insert: " + key));
  return rs.front().GetString(0);
}

Result<int64_t> NextSequenceValue(db::Transaction& tx, const std::string& collection) {
  CUTTLE_TRY(auto rs, tx.Execute("INSERT INTO id_sequences (name, value) VALUES ($1, 1) "
                                 "ON CONFLICT (name) DO UPDATE SET value = id_sequences.value + 1 "
                                 "RETURNING value",
                                 {collection}));
  return rs.front().GetInt(0);
}

Result<std::string> NextId(db::Transaction& tx, const std::string& collection) {
  CUTTLE_TRY(auto n, NextSequenceValue(tx, collection));
  return core::MakeId(collection, n);
}

}  // namespace cuttle::repo
