#include "engine/deploy_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "engine/package_fixtures.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace cuttle::engine {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::WriteFile;

constexpr int64_t kDay = 24LL * 60 * 60 * 1000;
constexpr int64_t kStart = 1'800'000'000'000;

class JournalTest : public ::testing::Test {
 protected:
  JournalTest() : journal_(dir_.Sub("home/DeploymentJournal.json")) {}

  // An entry whose extracted folder exists, installed `day` days after kStart.
  JournalEntry Entry(const std::string& name, int day, bool ok = true,
                     const std::string& policy = "Environments-1/Projects-1/Step-A/Machines-1") {
    JournalEntry e;
    e.id = name;
    e.environment_id = "Environments-1";
    e.project_id = "Projects-1";
    e.installed_on = kStart + day * kDay;
    e.retention_policy_set = policy;
    e.extracted_to = dir_.Sub("apps/" + name);
    e.was_successful = ok;
    e.packages.push_back({"App", "1.0." + std::to_string(day), dir_.Sub("pkg.zip")});
    fs::create_directories(e.extracted_to);
    return e;
  }

  std::vector<std::string> Ids() {
    std::vector<std::string> ids;
    auto all = journal_.ReadAll();
    EXPECT_TRUE(all) << all.error().message();
    for (const auto& e : all.value_or(std::vector<JournalEntry>{})) ids.push_back(e.id);
    return ids;
  }

  cuttle::testing::TempDir dir_;
  DeploymentJournal journal_;
};

TEST_F(JournalTest, EntriesRoundTripThroughAJsonFileThatIsReplacedWhole) {
  auto empty = journal_.ReadAll();
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_TRUE(empty->empty());
  JournalEntry e = Entry("d1", 0, false);
  e.tenant_id = "Tenants-1";
  e.custom_installation_directory = "/opt/app";
  ASSERT_TRUE(journal_.Add(e));
  ASSERT_TRUE(journal_.Add(Entry("d2", 1)));
  auto all = journal_.ReadAll();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  const JournalEntry& back = (*all)[0];
  EXPECT_EQ(back.id, "d1");
  EXPECT_EQ(back.tenant_id, "Tenants-1");
  EXPECT_EQ(back.installed_on, kStart);
  EXPECT_EQ(back.custom_installation_directory, "/opt/app");
  EXPECT_FALSE(back.was_successful);
  ASSERT_EQ(back.packages.size(), 1u);
  EXPECT_EQ(back.packages[0].package_version, "1.0.0");
  const std::string text = ReadFile(journal_.path());
  EXPECT_NE(text.find("\"Deployments\""), std::string::npos);
  EXPECT_NE(text.find("\"WasSuccessful\": false"), std::string::npos);
  EXPECT_NE(text.find("\"InstalledOn\": \"2027-01-15T08:00:00.000+00:00\""), std::string::npos);
  // Only the journal and its lock file are left in the folder: no temporary files.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path() / "home"), fs::directory_iterator()),
            2);
  ASSERT_TRUE(journal_.Remove({"d1"}));
  EXPECT_EQ(Ids(), std::vector<std::string>{"d2"});
}

TEST_F(JournalTest, ADamagedJournalIsAnErrorNotAnEmptyOne) {
  WriteFile(journal_.path(), "{not json");
  auto all = journal_.ReadAll();
  ASSERT_FALSE(all);
  EXPECT_NE(all.error().message().find("damaged"), std::string::npos);
  EXPECT_FALSE(journal_.Add(Entry("d1", 0)));
  EXPECT_EQ(ReadFile(journal_.path()), "{not json");
}

TEST_F(JournalTest, LatestInstallationMatchesPolicySetPackageAndVersion) {
  ASSERT_TRUE(journal_.Add(Entry("old", 1)));
  ASSERT_TRUE(journal_.Add(Entry("failed", 3, false)));
  ASSERT_TRUE(journal_.Add(Entry("other-set", 4, true, "Environments-2/x")));
  ASSERT_TRUE(journal_.Add(Entry("newest-ok", 2)));
  const std::string set = "environments-1/projects-1/step-a/machines-1";  // any case
  auto latest = journal_.LatestInstallation(set, std::nullopt, std::nullopt, false);
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->id, "failed");
  auto ok = journal_.LatestInstallation(set, std::nullopt, std::nullopt, true);
  ASSERT_TRUE(ok && *ok);
  EXPECT_EQ((*ok)->id, "newest-ok");
  auto version = journal_.LatestInstallation(set, "app", "1.0.1", false);
  ASSERT_TRUE(version && *version);
  EXPECT_EQ((*version)->id, "old");
  auto none = journal_.LatestInstallation(set, "App", "9.9.9", false);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(JournalTest, ConcurrentWritersLoseNoEntry) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([this, t] {
      DeploymentJournal mine(journal_.path());
      for (int i = 0; i < 10; ++i) {
        JournalEntry e;
        e.id = std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(mine.Add(e));
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(Ids().size(), 40u);
}

TEST_F(JournalTest, ItemsRetentionKeepsTheCurrentAndNPreviousSuccessfulOnes) {
  // Oldest first: ok0, failed1, ok2, ok3, failed4, ok5 (the current one).
  for (auto [name, day, ok] : {std::tuple{"ok0", 0, true},
                               {"failed1", 1, false},
                               {"ok2", 2, true},
                               {"ok3", 3, true},
                               {"failed4", 4, false},
                               {"ok5", 5, true}}) {
    ASSERT_TRUE(journal_.Add(Entry(name, day, ok)));
  }
  ASSERT_TRUE(journal_.Add(Entry("elsewhere", 0, true, "Environments-9/other")));
  cuttle::testing::FakeClock clock(kStart + 6 * kDay);
  auto outcome = ApplyRetention(journal_, "Environments-1/Projects-1/Step-A/Machines-1",
                                {TentacleRetention::Unit::kItems, 2}, clock);
  ASSERT_TRUE(outcome) << outcome.error().message();
  // Kept: ok5, ok3, ok2. Deleted: failed4 and failed1 (met among them) and ok0.
  EXPECT_EQ(Ids(), (std::vector<std::string>{"ok2", "ok3", "ok5", "elsewhere"}));
  for (const char* gone : {"ok0", "failed1", "failed4"}) {
    EXPECT_FALSE(fs::exists(dir_.path() / "apps" / gone)) << gone;
  }
  for (const char* kept : {"ok2", "ok3", "ok5", "elsewhere"}) {
    EXPECT_TRUE(fs::exists(dir_.path() / "apps" / kept)) << kept;
  }
  EXPECT_EQ(outcome->deleted_folders.size(), 3u);
}

TEST_F(JournalTest, ItemsRetentionDeletesNothingWhileTooFewSucceeded) {
  ASSERT_TRUE(journal_.Add(Entry("ok0", 0)));
  ASSERT_TRUE(journal_.Add(Entry("failed1", 1, false)));
  ASSERT_TRUE(journal_.Add(Entry("ok2", 2)));
  cuttle::testing::FakeClock clock(kStart + 3 * kDay);
  const std::string set = "Environments-1/Projects-1/Step-A/Machines-1";
  ASSERT_TRUE(ApplyRetention(journal_, set, {TentacleRetention::Unit::kItems, 2}, clock));
  EXPECT_EQ(Ids().size(), 3u);
  ASSERT_TRUE(ApplyRetention(journal_, set, {TentacleRetention::Unit::kItems, 0}, clock));
  EXPECT_EQ(Ids().size(), 3u);  // 0 keeps all
}

TEST_F(JournalTest, DaysRetentionDeletesWhatIsOlderAndSparesSharedFolders) {
  JournalEntry old = Entry("old", 0);
  JournalEntry shares = Entry("shares-old-folder", 1);
  shares.extracted_to = old.extracted_to;
  ASSERT_TRUE(journal_.Add(Entry("ancient", -30)));
  ASSERT_TRUE(journal_.Add(old));
  ASSERT_TRUE(journal_.Add(shares));
  ASSERT_TRUE(journal_.Add(Entry("recent", 9)));
  cuttle::testing::FakeClock clock(kStart + 10 * kDay + 1);
  auto outcome = ApplyRetention(journal_, "Environments-1/Projects-1/Step-A/Machines-1",
                                {TentacleRetention::Unit::kDays, 10}, clock);
  ASSERT_TRUE(outcome);
  // "old" is past 10 days; its folder stays because a kept entry uses it.
  EXPECT_EQ(Ids(), (std::vector<std::string>{"shares-old-folder", "recent"}));
  EXPECT_FALSE(fs::exists(dir_.path() / "apps" / "ancient"));
  EXPECT_TRUE(fs::exists(old.extracted_to));
}

}  // namespace
}  // namespace cuttle::engine
