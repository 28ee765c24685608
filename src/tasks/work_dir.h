// The node's working folder for scripts (tasks.work_dir): node-local scratch space, mode 0700 and
// owned by the node's user, holding one fresh folder per running script. A task folder's name is
// unpredictable (mkdtemp), so another local user cannot plant a symlink where a script's files
// will be written; the folder is removed when its task ends, and the leftovers of a node killed
// mid-task are swept when the node starts again.
//
// Functions are thread-safe (they touch only the paths they are given).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace cuttle::tasks {

// Creates `root` if missing (mode 0700), refuses it if it is not a directory of its own (a
// symlink, or owned by another user), sets mode 0700, and removes every task folder left in it.
// Errors name the setting: "tasks.work_dir '/x': ...".
Result<void> PrepareWorkRoot(const std::string& root);

// Creates a new, empty task folder "<root>/<task id lower-cased>-XXXXXX" with mode 0700; never
// an existing path or a symlink. Returns its path.
Result<std::string> CreateTaskDir(const std::string& root, std::string_view task_id);

}  // namespace cuttle::tasks
