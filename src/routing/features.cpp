#include "routing/features.h"

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
  int64_t ascii = 0;
  int64_t other = 0;  // non-ASCII characters: UTF-8 lead bytes (continuations are 10xxxxxx)
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    ascii += c < 0x80 ? 1 : 0;
    other += c >= 0xC0 ? 1 : 0;
  }
  return (ascii + 3) / 4 + other;
}

}  // namespace sy::routing
