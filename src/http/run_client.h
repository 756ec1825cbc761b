// RunClientTasks: http::Client calls from a plain thread, for command-line tools (`switchyard
// eval`) that talk to a gateway outside a server's workers.
//
// Thread-safety: everything runs on the calling thread; the Client must not escape `start`'s
// tasks.
#pragma once

#include <functional>
#include <vector>

#include "http/client.h"
#include "http/task.h"

namespace sy::http {

// Runs the tasks `start` returns, concurrently, on a private io_context on the calling thread,
// with one Client they share; returns once every task has finished, then closes the client's
// pooled connections. The first exception a task threw is rethrown.
void RunClientTasks(const std::function<std::vector<Task<void>>(Client&)>& start);

}  // namespace sy::http
