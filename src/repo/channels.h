// The channels aggregate: rows of `channels`. A project has exactly one default channel: the
// partial unique index makes "at most one" a database guarantee, and the API moves the flag in
// one transaction (clear the old default, then set the new one).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "db/database.h"
#include "repo/page.h"

namespace cuttle::repo {

struct ChannelRow {
  std::string id;
  std::string space_id;
  std::string project_id;
  std::string name;
  std::optional<std::string> lifecycle_id;  // nullopt: the project's
  bool is_default = false;
  nlohmann::json doc = nlohmann::json::object();  // Description, Rules, TenantTags, ...
};

struct ChannelFilter {
  std::string space_id;
  std::optional<std::string> project_id;
};

// Ordered by project, then default first, then name.
Result<Page<ChannelRow>> ListChannels(db::Database& db, const ChannelFilter& f, const PageQuery& q);
Result<std::vector<ChannelRow>> ListAllChannels(db::Database& db, const ChannelFilter& f,
                                                const PageQuery& q);
Result<std::optional<ChannelRow>> FindChannel(db::Database& db, const std::string& space_id,
                                              const std::string& id);
Result<std::optional<ChannelRow>> FindChannel(db::Transaction& tx, const std::string& space_id,
                                              const std::string& id);
Result<std::vector<ChannelRow>> ProjectChannels(db::Transaction& tx, const std::string& project_id);

Result<void> InsertChannel(db::Transaction& tx, const ChannelRow& c);
Result<void> UpdateChannel(db::Transaction& tx, const ChannelRow& c);
// Clears the default flag of every channel of the project but `keep_id`.
Result<void> ClearOtherDefaults(db::Transaction& tx, const std::string& project_id,
                                const std::string& keep_id);
Result<void> DeleteChannel(db::Transaction& tx, const std::string& id);
Result<void> DeleteProjectChannels(db::Transaction& tx, const std::string& project_id);

}  // namespace cuttle::repo
