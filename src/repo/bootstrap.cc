#include "repo/bootstrap.h"

#include "core/ids.h"
#include "repo/settings.h"
#include "repo/spaces.h"
#include "repo/users.h"

namespace cuttle::repo {

Result<BootstrapResult> Bootstrap(db::Database& db, const std::string& admin_key_hash,
                                  const std::string& admin_password_hash) {
  BootstrapResult result;
  CUTTLE_TRY_VOID(db.InTransaction([&](db::Transaction& tx) -> Result<void> {
    result = {};
    CUTTLE_TRY(result.installation_id, PutSettingIfAbsent(tx, "installation_id", core::NewUuid()));
    // Fixed ids for the seeds; the sequences start after them so later ids never collide.
    CUTTLE_TRY(auto space,
               tx.Execute("INSERT INTO spaces (id, name, slug, description, is_default) VALUES "
                          "('Spaces-1', 'Default', 'default', 'The default space', $1) "
                          "ON CONFLICT DO NOTHING RETURNING id",
                          {true}));
    // Only with the space itself, so a default the user deleted later is not brought back. (A
    // database that had Spaces-1 before its defaults existed got them from migration 0006.)
    if (!space.empty()) {
      CUTTLE_TRY_VOID(CreateSpaceDefaults(tx, "Spaces-1"));
    }
    CUTTLE_TRY_VOID(
        tx.Execute("INSERT INTO id_sequences (name, value) VALUES ('Spaces', 1), ('Users', 1) "
                   "ON CONFLICT (name) DO NOTHING"));
    CUTTLE_TRY(
        auto inserted,
        tx.Execute("INSERT INTO users (id, username, display_name, password_hash, "
                   "created_at) VALUES ('Users-1', 'admin', 'Administrator', $1, now_ms()) "
                   "ON CONFLICT DO NOTHING RETURNING id",
                   {admin_password_hash.empty() ? db::Value() : db::Value(admin_password_hash)}));
    if (!inserted.empty()) {
      CUTTLE_TRY_VOID(AddApiKey(tx, "Users-1", admin_key_hash, "Bootstrap"));
      result.created_admin = true;
    }
    return {};
  }));
  return result;
}

}  // namespace cuttle::repo
