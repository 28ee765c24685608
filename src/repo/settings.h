// Small cluster-wide values (`cluster_settings`: installation id, master key check value) and the
// id sequences behind every "<Collection>-<n>" id (`id_sequences`). Stateless; thread-safe as the
// Database is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

Result<std::optional<std::string>> GetSetting(db::Database& db, const std::string& key);
// Inserts the value unless the key exists; returns the stored value either way.
Result<std::string> PutSettingIfAbsent(db::Transaction& tx, const std::string& key,
                                       const std::string& value);

// The next number of `collection` ("Environments" -> 1, 2, ...), in the caller's transaction, so an
// aborted insert gives its number back.
Result<int64_t> NextSequenceValue(db::Transaction& tx, const std::string& collection);
// "<collection>-<n>", e.g. NextId(tx, "Environments") -> "Environments-3".
Result<std::string> NextId(db::Transaction& tx, const std::string& collection);

}  // namespace cuttle::repo
