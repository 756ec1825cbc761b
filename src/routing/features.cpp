#include "routing/features.h"

#include <cstring>

namespace sy::routing {

std::string_view TaskTypeName(TaskType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTaskTypeCount ? kTaskTypeNames[i] : std::string_view("chat");
}

std::optional<TaskType> ParseTaskType(std::string_view name) {
  for (size_t i = 0; i < kTaskTypeCount; ++i) {
    if (kTaskTypeNames[i] == name) return static_cast<TaskType>(i);
  }
  return std::nullopt;
}

int64_t EstimateTokens(std::string_view text) {
  // ASCII bytes have the top bit clear; a non-ASCII character has one lead byte (11xxxxxx)
  // and continuation bytes (10xxxxxx). Counted eight bytes at a time in byte lanes (this runs
  // over every text of every request): each lane adds 0 or 1 per step and is summed before it
  // can overflow.
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  int64_t high = 0;  // bytes with the top bit set
  int64_t lead = 0;  // of which lead bytes
  size_t i = 0;
  while (i + 8 <= text.size()) {
    uint64_t high_lanes = 0, lead_lanes = 0;
    for (int step = 0; step < 255 && i + 8 <= text.size(); ++step, i += 8) {
      uint64_t v;
      std::memcpy(&v, text.data() + i, 8);
      high_lanes += (v >> 7) & kOnes;
      lead_lanes += ((v & (v << 1)) >> 7) & kOnes;  // bit 7 and bit 6 both set
    }
    high += static_cast<int64_t>((high_lanes * kOnes) >> 56);
    lead += static_cast<int64_t>((lead_lanes * kOnes) >> 56);
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    high += c >= 0x80 ? 1 : 0;
    lead += c >= 0xC0 ? 1 : 0;
  }
  const auto ascii = static_cast<int64_t>(text.size()) - high;
  return (ascii + 3) / 4 + lead;
}

}  // namespace sy::routing
