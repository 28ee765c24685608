// storage::Remover: removal off the caller's thread (task working folders, replaced package files).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace cuttle::storage {

// Removes files and folders on a thread of its own, so that the caller (a finished script, a
// replaced package) does not wait for the file system: removing costs milliseconds of waiting on
// some disks (ext4 mounted with `discard` discards a directory's block synchronously in rmdir). A
// path handed over is gone by the time Drain or the destructor returns. When more than kMaxQueued
// paths wait, Remove removes on the caller's thread (the queue cannot outgrow the disk).
// Thread-safe.
class Remover {
 public:
  static constexpr size_t kMaxQueued = 64;

  Remover();
  ~Remover();  // removes what waits, then stops its thread
  Remover(const Remover&) = delete;
  Remover& operator=(const Remover&) = delete;

  // Removes `path`, a file or a folder with everything in it (symlinks themselves, never what
  // they point to), soon.
  void Remove(std::string path);
  // Returns once every path handed over so far is removed.
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

}  // namespace cuttle::storage
