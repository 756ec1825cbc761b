// Names the calling thread, so that top -H, perf and /proc/PID/task/*/comm tell the worker from
// the ledger writer.
#pragma once

#include <pthread.h>

namespace sy::core {

// `name` must be at most 15 characters (the kernel's limit); a longer one is ignored.
inline void NameThisThread(const char* name) { (void)pthread_setname_np(pthread_self(), name); }

}  // namespace sy::core
