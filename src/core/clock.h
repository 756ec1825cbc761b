// Clock: the one seam for "now", so tests can pin time (price windows, deadlines, the ledger).
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <chrono>

namespace sy::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace sy::core
