// Encoding of a generated answer as OpenAI Chat Completions JSON and SSE chunks.
// Internal to the emulator's OpenAI dialect. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "emulator/completion.h"
#include "emulator/http_message.h"
#include "emulator/profiles.h"

namespace sy::emulator {

struct OpenAiAnswer {
  std::string id;  // "chatcmpl-..."
  int64_t created = 0;
  std::string model;
  std::string system_fingerprint;
  std::vector<GeneratedChoice> choices;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  bool include_usage = false;  // streams only
};

// The chat.completion object.
boost::json::object OpenAiCompletionJson(const OpenAiAnswer& answer);
// The paced chat.completion.chunk events, ending with "data: [DONE]".
std::vector<StreamEvent> OpenAiStreamEvents(const OpenAiAnswer& answer, const Profile& profile);
// The usage block.
boost::json::object OpenAiUsageJson(const OpenAiAnswer& answer);
// "call_" + 24 base62 characters.
std::string OpenAiToolCallId(uint64_t seed);

}  // namespace sy::emulator
