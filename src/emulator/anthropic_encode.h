// Encoding of a generated answer as an Anthropic Message and its SSE event sequence.
// Internal to the emulator's Anthropic dialect. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "emulator/completion.h"
#include "emulator/http_message.h"
#include "emulator/profiles.h"

namespace sy::emulator {

struct AnthropicAnswer {
  std::string id;  // "msg_..."
  std::string model;
  GeneratedChoice choice;
  int64_t input_tokens = 0;  // excludes cache reads and writes, as Anthropic reports it
  int64_t cache_creation_input_tokens = 0;
  int64_t cache_read_input_tokens = 0;
};

// The Message object.
boost::json::object AnthropicMessageJson(const AnthropicAnswer& answer);
// message_start, content blocks (start, ping after the first, deltas, stop), message_delta,
// message_stop; each "event: NAME\ndata: JSON\n\n", paced by `profile`.
std::vector<StreamEvent> AnthropicStreamEvents(const AnthropicAnswer& answer,
                                               const Profile& profile);
// "toolu_01" + 22 base62 characters.
std::string AnthropicToolUseId(uint64_t seed);

}  // namespace sy::emulator
