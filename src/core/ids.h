// Request ids: unique, sortable by time, safe in headers and file names.
// Thread-safety: NewRequestId() is safe from any thread (thread-local state, no lock).
#pragma once

#include <string>

namespace sy::core {

// "req_" + 12 hex digits of milliseconds since the epoch + 12 hex digits of randomness.
std::string NewRequestId();

}  // namespace sy::core
