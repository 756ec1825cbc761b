// Waiting inside a coroutine without blocking the worker.
#pragma once

#include <chrono>

#include "http/task.h"

namespace sy::http {

// Suspends the calling coroutine for `duration` on its own executor.
Task<void> SleepFor(std::chrono::milliseconds duration);

}  // namespace sy::http
