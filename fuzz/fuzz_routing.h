// What every decoded body must survive: reading its prompt and classifying it, which the route
// stage does for every request. Shared by the two decode targets.
#pragma once

#include <string_view>

#include "core/prompt.h"
#include "fuzz_check.h"
#include "routing/features.h"

namespace sy::fuzz {

inline void CheckClassified(const core::Prompt& prompt, size_t body_bytes) {
  size_t text_bytes = 0;
  for (const auto& t : prompt.texts) text_bytes += t.text.size();
  Check(text_bytes == prompt.text_bytes, "text_bytes is the sum of the texts");
  Check(prompt.text_bytes <= body_bytes, "texts are views into the body");
  const routing::Features f = routing::Classify(prompt);
  Check(static_cast<size_t>(f.task_type) < routing::kTaskTypeCount, "a known task type");
  Check(f.prompt_tokens >= 0 && f.expected_output_tokens >= 0, "estimates are not negative");
  Check(f.max_output_tokens == 0 || f.expected_output_tokens <= f.max_output_tokens,
        "the expected output stays within the client's cap");
  Check(!f.language.empty() && f.depth >= 0 && f.images >= 0, "language, depth and images");
  Check(!f.json_schema || f.json_output, "json_schema is JSON output");
}

}  // namespace sy::fuzz
