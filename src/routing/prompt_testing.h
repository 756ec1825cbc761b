// Test helper for routing's unit tests: a hand-built core::Prompt.
#pragma once

#include <string_view>

#include "core/prompt.h"

namespace sy::routing::testutil {

// A one-turn prompt: an optional system text and one user text, in a body of 60 more bytes.
inline core::Prompt Ask(std::string_view user, std::string_view system = {}) {
  core::Prompt p;
  p.AddText(core::PromptRole::kSystem, -1, system);
  p.AddText(core::PromptRole::kUser, 0, user);
  p.messages = 1;
  p.user_turns = 1;
  p.body_bytes = p.text_bytes + 60;
  return p;
}

}  // namespace sy::routing::testutil
