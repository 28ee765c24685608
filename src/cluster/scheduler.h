// Scheduler: recurring cluster jobs without a leader (DESIGN.md §3.2, reference-octopus-ha.md
// §2.7). Every node runs a Scheduler; each job's next run time is a row of scheduled_jobs, and a
// node takes a due run by moving next_run forward under a cluster-wide lock (a PostgreSQL
// advisory lock; SQLite's single writer), so exactly one node runs each due job. The job itself
// runs after the lock is released: a job must tolerate a node dying half-way (it runs again at
// its next time) and must not rely on being alone beyond that (the jobs' writes are conditional).
//
// Thread-safe; jobs run on the scheduler's thread, one at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "db/database.h"

namespace cuttle::cluster {

class Scheduler {
 public:
  using Job = std::function<Result<void>()>;

  Scheduler(db::Database& db, core::Clock& clock, std::string node_name);
  ~Scheduler();

  // Registers a job before Start.
  void Add(std::string name, std::chrono::milliseconds interval, Job job);
  void Start();
  void Stop();

  // Takes and runs every due job once (the thread calls this each tick; tests call it directly).
  // Returns the names of the jobs this node ran.
  std::vector<std::string> RunDue();

  // Takes the next run of `name` if it is due: true means this node must run it now.
  Result<bool> TakeIfDue(const std::string& name, std::chrono::milliseconds interval);

 private:
  struct Entry {
    std::string name;
    std::chrono::milliseconds interval;
    Job job;
  };
  void Loop();

  db::Database& db_;
  core::Clock& clock_;
  const std::string node_name_;
  std::vector<Entry> jobs_;
  std::chrono::milliseconds tick_{250};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cuttle::cluster
