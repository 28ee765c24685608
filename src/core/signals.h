// StopSignals: SIGTERM and SIGINT taken by a thread that waits for them, not by a handler, in the
// server and the agent alike.
#pragma once

#include <csignal>

namespace cuttle::core {

// Construct it on the main thread before any other thread starts: it blocks SIGTERM and SIGINT
// in the calling thread, every thread started later inherits that mask, so the signals stay
// pending until Wait() takes one. It also ignores SIGPIPE, so that a write to a closed socket or
// pipe is an error value rather than the end of the process. Child processes reset both (see
// engine/script_process.cc).
class StopSignals {
 public:
  StopSignals();

  // Blocks until SIGTERM or SIGINT arrives and returns which.
  int Wait() const;

 private:
  sigset_t set_{};
};

}  // namespace cuttle::core
