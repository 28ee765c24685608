// Bug (issue 9 #7): scripts ran in /tmp/cuttle-work-<node>/servertasks-N, a predictable path: a
// local user could plant a symlink there and script.sh was written through it; the folders of
// tasks killed by SIGKILL were never removed.
#include "tasks/work_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/step_runner.h"
#include "storage/remover.h"
#include "testing/temp_dir.h"

namespace cuttle::tasks {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(WorkDirTest, APlantedSymlinkIsNeverWrittenThrough) {
  testing::TempDir dir;
  std::string root = dir.Sub("work");
  ASSERT_TRUE(PrepareWorkRoot(root));
  fs::create_directories(dir.Sub("victim"));
  // The old, predictable name, planted before the task starts.
  fs::create_directory_symlink(dir.Sub("victim"), root + "/servertasks-1");
  auto task_dir = CreateTaskDir(root, "ServerTasks-1");
  ASSERT_TRUE(task_dir) << task_dir.error().message();
  EXPECT_FALSE(fs::is_symlink(*task_dir));
  EXPECT_EQ(fs::path(*task_dir).parent_path(), fs::path(root));
  struct stat st {};
  ASSERT_EQ(::lstat(task_dir->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  engine::StepScript o;
  o.body = "echo ran";
  o.work_dir = *task_dir;
  ASSERT_TRUE(engine::RunStep(o, {}));
  EXPECT_TRUE(fs::is_empty(dir.Sub("victim")));
}

TEST(WorkDirTest, AScriptFilePlantedInTheFolderIsRefusedNotFollowed) {
  testing::TempDir dir;
  fs::create_directories(dir.Sub("work"));
  { std::ofstream(dir.Sub("target")) << "precious"; }
  fs::create_symlink(dir.Sub("target"), dir.Sub("work/script.sh"));
  engine::StepScript o;
  o.body = "echo overwritten";
  o.work_dir = dir.Sub("work");
  auto r = engine::RunStep(o, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("cannot create script.sh"), std::string::npos);
  EXPECT_EQ(Read(dir.Sub("target")), "precious");
}

TEST(WorkDirTest, TheRootIsPrivateAndSweptOfLeftoversOnly) {
  testing::TempDir dir;
  std::string root = dir.Sub("work");
  fs::create_directories(root + "/servertasks-3-abcdef");  // a task killed with the node
  { std::ofstream(root + "/servertasks-3-abcdef/out.txt") << "left"; }
  fs::create_directories(dir.Sub("victim"));
  { std::ofstream(dir.Sub("victim/keep.txt")) << "keep"; }
  fs::create_directory_symlink(dir.Sub("victim"), root + "/servertasks-4");
  { std::ofstream(root + "/notes.txt") << "not ours to remove"; }
  ::chmod(root.c_str(), 0755);
  ASSERT_TRUE(PrepareWorkRoot(root));
  EXPECT_FALSE(fs::exists(root + "/servertasks-3-abcdef"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/servertasks-4")));
  EXPECT_EQ(Read(dir.Sub("victim/keep.txt")), "keep") << "a symlink goes, not what it points to";
  EXPECT_TRUE(fs::exists(root + "/notes.txt"));
  struct stat st {};
  ASSERT_EQ(::lstat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(WorkDirTest, ARootThatIsASymlinkIsRefused) {
  testing::TempDir dir;
  fs::create_directories(dir.Sub("elsewhere"));
  fs::create_directory_symlink(dir.Sub("elsewhere"), dir.Sub("work"));
  auto r = PrepareWorkRoot(dir.Sub("work"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("tasks.work_dir"), std::string::npos);
  EXPECT_NE(r.error().message().find("symlink"), std::string::npos);
}

TEST(RemoverTest, RemovesEveryFolderHandedOverByDrainAndNeverFollowsASymlink) {
  testing::TempDir dir;
  std::string root = dir.Sub("work");
  ASSERT_TRUE(PrepareWorkRoot(root));
  fs::create_directories(dir.Sub("victim"));
  { std::ofstream(dir.Sub("victim/keep")) << "precious"; }
  storage::Remover remover;
  std::vector<std::string> folders;
  for (int i = 0; i < 100; ++i) {  // past kMaxQueued: some are removed on this thread
    auto d = CreateTaskDir(root, "ServerTasks-1");
    ASSERT_TRUE(d) << d.error().message();
    fs::create_directories(*d + "/sub/deeper");
    { std::ofstream(*d + "/sub/deeper/file") << "x"; }
    fs::create_directory_symlink(dir.Sub("victim"), *d + "/link");
    folders.push_back(*d);
    remover.Remove(*d);
  }
  remover.Drain();
  for (const auto& d : folders) EXPECT_FALSE(fs::exists(d)) << d;
  EXPECT_EQ(Read(dir.Sub("victim/keep")), "precious");
}

TEST(RemoverTest, TheDestructorRemovesWhatStillWaits) {
  testing::TempDir dir;
  std::string root = dir.Sub("work");
  ASSERT_TRUE(PrepareWorkRoot(root));
  std::vector<std::string> folders;
  {
    storage::Remover remover;
    for (int i = 0; i < 10; ++i) {
      auto d = CreateTaskDir(root, "ServerTasks-2");
      ASSERT_TRUE(d);
      { std::ofstream(*d + "/file") << "x"; }
      folders.push_back(*d);
      remover.Remove(*d);
    }
  }
  for (const auto& d : folders) EXPECT_FALSE(fs::exists(d)) << d;
}

}  // namespace
}  // namespace cuttle::tasks
