// The start-up order: the master key is checked against the database before any migration runs.
#include "apps/server_setup.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "db/migrations.h"
#include "testing/temp_dir.h"

namespace cuttle::apps {
namespace {

config::Options OptionsFor(const testing::TempDir& dir, std::optional<std::string> key) {
  config::FlagValues flags{{"storage.shared_dir", dir.Sub("shared")}};
  if (key) flags["security.master_key"] = *key;
  auto o = config::Load(flags, [](std::string_view) { return std::optional<std::string>(); });
  EXPECT_TRUE(o.has_value()) << o.error().message();
  return *o;
}

std::unique_ptr<db::Database> Reopen(const config::Options& o) {
  auto db = OpenDatabase(o, 1);
  EXPECT_TRUE(db.has_value()) << db.error().message();
  return std::move(*db);
}

// Bug: the database was migrated before the key was checked, so a node started with the wrong key
// applied pending migrations and only then refused to start.
TEST(ServerSetupTest, AWrongKeyIsRefusedBeforeAPendingMigrationIsApplied) {
  testing::TempDir dir;
  const std::string key = crypto::MasterKey::Generate().ToBase64();
  ASSERT_TRUE(OpenNodeDatabase(OptionsFor(dir, key), 1).has_value());
  const int latest = db::LatestSchemaVersion();
  {
    auto db = Reopen(OptionsFor(dir, key));
    ASSERT_TRUE(db->Execute("DELETE FROM schema_migrations WHERE version = $1", {int64_t{latest}}));
  }

  const std::string other = crypto::MasterKey::Generate().ToBase64();
  auto refused = OpenNodeDatabase(OptionsFor(dir, other), 1);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(ExitCodeFor(refused.error()), kExitConfig);
  EXPECT_NE(refused.error().message().find("does not match this database"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(db::CurrentSchemaVersion(*Reopen(OptionsFor(dir, key))), latest - 1);

  // The administration commands that migrate refuse the same way when given a key.
  auto admin = OpenAdminDatabase(OptionsFor(dir, other), 1, /*migrate=*/true);
  ASSERT_FALSE(admin.has_value());
  EXPECT_EQ(db::CurrentSchemaVersion(*Reopen(OptionsFor(dir, key))), latest - 1);
}

TEST(ServerSetupTest, ANewDatabaseIsMigratedAndGetsTheKeysCheckValue) {
  testing::TempDir dir;
  const auto key = crypto::MasterKey::Generate();
  auto opened = OpenNodeDatabase(OptionsFor(dir, key.ToBase64()), 1);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(db::CurrentSchemaVersion(*opened->db), db::LatestSchemaVersion());
  auto stored = StoredKeyCheck(*opened->db);
  ASSERT_TRUE(stored.has_value()) << stored.error().message();
  EXPECT_EQ(*stored, std::optional<std::string>(key.CheckValue()));
  EXPECT_FALSE(opened->key_created);
}

// Bug (same cause): with SQLite and the default key file gone, a node wrote a new key file and
// migrated before finding that the database belonged to the lost key.
TEST(ServerSetupTest, AMissingKeyFileIsNotReplacedOnAnExistingDatabase) {
  testing::TempDir dir;
  const auto o = OptionsFor(dir, std::nullopt);
  auto first = OpenNodeDatabase(o, 1);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_TRUE(first->key_created);
  first->db.reset();
  ASSERT_TRUE(std::filesystem::remove(o.default_master_key_file));

  auto again = OpenNodeDatabase(o, 1);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("security.master_key_file"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(o.default_master_key_file));
}

TEST(ServerSetupTest, AdministrationNeedsNoKeyAndNeverCreatesOne) {
  testing::TempDir dir;
  const auto o = OptionsFor(dir, std::nullopt);
  auto admin = OpenAdminDatabase(o, 1, /*migrate=*/true);
  ASSERT_TRUE(admin.has_value()) << admin.error().message();
  EXPECT_EQ(db::CurrentSchemaVersion(*admin->db), db::LatestSchemaVersion());
  EXPECT_FALSE(std::filesystem::exists(o.default_master_key_file));
  EXPECT_FALSE(admin->key.has_value());
}

// A database first migrated by `cuttle-server migrate` with the cluster's key keeps that key: a
// node started later with another key is refused instead of claiming the database for its own.
TEST(ServerSetupTest, MigratingANewDatabaseWithAKeyStoresItsCheckValue) {
  testing::TempDir dir;
  const std::string key = crypto::MasterKey::Generate().ToBase64();
  auto admin = OpenAdminDatabase(OptionsFor(dir, key), 1, /*migrate=*/true);
  ASSERT_TRUE(admin.has_value()) << admin.error().message();
  admin->db.reset();
  auto other = OpenNodeDatabase(OptionsFor(dir, crypto::MasterKey::Generate().ToBase64()), 1);
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message().find("does not match"), std::string::npos);
  EXPECT_TRUE(OpenNodeDatabase(OptionsFor(dir, key), 1).has_value());
}

}  // namespace
}  // namespace cuttle::apps
