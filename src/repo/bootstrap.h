// The first start of a cluster: seeds a new database with what every node expects to find.
#pragma once

#include <string>

#include "core/error.h"
#include "db/database.h"

namespace cuttle::repo {

struct BootstrapResult {
  std::string installation_id;
  bool created_admin = false;  // this call created the admin user (new database)
};
// Seeds a new database, idempotently and safely when several nodes start at once: the
// installation id, the Default space (Spaces-1) with what every space starts with
// (CreateSpaceDefaults), and the `admin` user (Users-1) holding `admin_key_hash` and
// `admin_password_hash` (an Argon2id hash; empty: no password). Only the call that creates the
// admin reports created_admin.
Result<BootstrapResult> Bootstrap(db::Database& db, const std::string& admin_key_hash,
                                  const std::string& admin_password_hash = "");

}  // namespace cuttle::repo
