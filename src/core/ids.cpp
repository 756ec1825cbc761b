#include "core/ids.h"

#include <chrono>
#include <cstdint>
#include <random>

namespace sy::core {
namespace {

void AppendHex(std::string& out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out.push_back(kHex[(value >> (4 * i)) & 0xF]);
  }
}

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::string id = "req_";
  id.reserve(28);
  AppendHex(id, static_cast<uint64_t>(ms), 12);
  AppendHex(id, rng(), 12);
  return id;
}

}  // namespace sy::core
