// Reading an operator's file whole (a config, a workload, a request body, a router model): with
// a hard size limit, and only from a regular file, so that `--config /dev/zero`, a FIFO nobody
// writes to or a file grown by mistake to gigabytes is refused at once instead of read into
// memory until the process is killed.
//
// Thread-safety: thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::core {

// The bytes of the regular file at `path`, at most `max_bytes` of them. `what` names the file
// for messages ("config file", "--data"), which read "<what> <path>: <reason>". Fails with
//   kNotFound          "no such file", or "cannot be opened (<errno text>)";
//   kInvalidRequest    "not a regular file" (a directory, device, FIFO, socket; refused before
//                      a byte is read, without blocking on a FIFO), or "cannot be read (...)";
//   kPayloadTooLarge   "larger than <max_bytes> bytes", after reading at most max_bytes + 1.
// A symlink is followed: what matters is the file it names.
Result<std::string> ReadRegularFile(const std::string& path, uint64_t max_bytes,
                                    std::string_view what);

}  // namespace sy::core
