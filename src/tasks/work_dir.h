// The node's working folder for scripts (tasks.work_dir): node-local scratch space, mode 0700 and
// owned by the node's user, holding one fresh folder per running script. A task folder's name is
// unpredictable (mkdtemp), so another local user cannot plant a symlink where a script's files
// will be written; the folder is removed when its task ends, and the leftovers of a node killed
// mid-task are swept when the node starts again.
//
// Functions are thread-safe (they touch only the paths they are given).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/error.h"

namespace cuttle::tasks {

// Creates `root` if missing (mode 0700), refuses it if it is not a directory of its own (a
// symlink, or owned by another user), sets mode 0700, and removes every task folder left in it.
// Errors name the setting: "tasks.work_dir '/x': ...".
Result<void> PrepareWorkRoot(const std::string& root);

// Creates a new, empty task folder "<root>/<task id lower-cased>-XXXXXX" with mode 0700; never
// an existing path or a symlink. Returns its path.
Result<std::string> CreateTaskDir(const std::string& root, std::string_view task_id);

// Removes working folders on a thread of its own, so that a finished script does not wait for
// the file system: removing a folder costs milliseconds of waiting on some disks (ext4 mounted
// with `discard` discards a directory's block synchronously in rmdir). A folder handed over is
// gone by the time Drain or the destructor returns; the leftovers of a killed node are swept by
// PrepareWorkRoot. When more than kMaxQueued folders wait, Remove removes on the caller's thread
// (the queue cannot outgrow the disk). Thread-safe.
class FolderRemover {
 public:
  static constexpr size_t kMaxQueued = 64;

  FolderRemover();
  ~FolderRemover();  // removes what waits, then stops its thread
  FolderRemover(const FolderRemover&) = delete;
  FolderRemover& operator=(const FolderRemover&) = delete;

  // Removes `dir` and everything in it (symlinks themselves, never what they point to), soon.
  void Remove(std::string dir);
  // Returns once every folder handed over so far is removed.
  void Drain();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  // State below is protected by mu_.
  std::deque<std::string> queued_;
  size_t removing_ = 0;  // taken from the queue, not yet removed
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is initialised
};

}  // namespace cuttle::tasks
