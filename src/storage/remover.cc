#include "storage/remover.h"

#include <unistd.h>

#include <filesystem>

namespace cuttle::storage {

namespace {
// A step's folder is usually empty by now (the runner removed its own files): one rmdir, rather
// than remove_all's listing and its unlink attempt before the rmdir; a file is one unlink.
void RemovePath(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || ::unlink(path.c_str()) == 0) return;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}
}  // namespace

Remover::Remover() : thread_([this] { Loop(); }) {}

Remover::~Remover() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Remover::Remove(std::string path) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queued_.size() < kMaxQueued) {
      queued_.push_back(std::move(path));
      cv_.notify_all();
      return;
    }
  }
  RemovePath(path);
}

void Remover::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queued_.empty() && removing_ == 0; });
}

void Remover::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
    if (queued_.empty()) return;  // stopping, nothing left
    std::string path = std::move(queued_.front());
    queued_.pop_front();
    ++removing_;
    lock.unlock();
    RemovePath(path);
    lock.lock();
    --removing_;
    cv_.notify_all();
  }
}

}  // namespace cuttle::storage
