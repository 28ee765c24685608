#include "core/signals.h"

#include <pthread.h>

namespace cuttle::core {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int StopSignals::Wait() const {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

}  // namespace cuttle::core
