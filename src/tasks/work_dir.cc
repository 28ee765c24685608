#include "tasks/work_dir.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/strings.h"

namespace cuttle::tasks {

namespace {
// Every task folder's name starts so (task ids are ServerTasks-N); the sweep removes nothing else,
// so a work_dir set to a folder holding other files loses none of them.
constexpr std::string_view kTaskPrefix = "servertasks-";

Error RootError(const std::string& root, std::string_view what) {
  return Error::Io(fmt::format("tasks.work_dir '{}': {}", root, what));
}

Result<void> CheckOwnDirectory(const std::string& root) {
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) {
    return Fail(RootError(root, fmt::format("cannot read: {}", std::strerror(errno))));
  }
  if (S_ISLNK(st.st_mode)) return Fail(RootError(root, "is a symlink; give the real path"));
  if (!S_ISDIR(st.st_mode)) return Fail(RootError(root, "is not a directory"));
  if (st.st_uid != ::geteuid()) {
    return Fail(RootError(root, "is owned by another user; give the node a folder of its own"));
  }
  if ((st.st_mode & 07777) != 0700 && ::chmod(root.c_str(), 0700) != 0) {
    return Fail(RootError(root, fmt::format("cannot set mode 0700: {}", std::strerror(errno))));
  }
  return {};
}
}  // namespace

Result<void> PrepareWorkRoot(const std::string& root) {
  std::error_code ec;
  std::filesystem::path path(root);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(RootError(root, fmt::format("cannot create: {}", std::strerror(errno))));
  }
  CUTTLE_TRY_VOID(CheckOwnDirectory(root));
  std::vector<std::filesystem::path> leftovers;
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(kTaskPrefix)) leftovers.push_back(it->path());
  }
  if (ec) return Fail(RootError(root, "cannot list: " + ec.message()));
  // remove_all removes a symlink itself, never what it points to.
  for (const auto& p : leftovers) std::filesystem::remove_all(p, ec);
  return {};
}

Result<std::string> CreateTaskDir(const std::string& root, std::string_view task_id) {
  std::string name = core::ToLower(task_id);
  if (!name.starts_with(kTaskPrefix)) name = std::string(kTaskPrefix) + name;
  std::string pattern = root + "/" + name + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Fail(Error::Io(
        fmt::format("cannot create a working folder for {}: {}", task_id, std::strerror(errno))));
  }
  return pattern;
}

}  // namespace cuttle::tasks
