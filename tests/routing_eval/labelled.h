// The labelled requests of tests/data/routing/, as sy_routing_eval and sy_routing_train read
// them: JSON Lines records {"id", "task_type", "dialect": "openai"|"anthropic", "language",
// "body"}, each body read into a core::Prompt by its dialect's reader.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/prompt.h"
#include "routing/features.h"

namespace sy::routing_eval {

// One labelled request. `prompt` views `body`, so a LabelledRequest never moves (it is handed
// out by unique_ptr).
struct LabelledRequest {
  std::string id;
  std::string dialect;
  std::string language;
  routing::TaskType label = routing::TaskType::kChat;
  boost::json::value body;
  core::Prompt prompt;
};

// Calls `take` for each labelled record of the file, in order; a line that is not one is
// reported on stderr (prefixed by the file and line) and skipped. False, with a message naming
// `tool`, when the file cannot be read.
bool ReadLabelledFile(const std::string& path, std::string_view tool,
                      const std::function<void(std::unique_ptr<LabelledRequest>)>& take);

// The start of the last user text, on one line, for listing a miss.
std::string LastUserText(const core::Prompt& prompt, size_t max_bytes = 140);

}  // namespace sy::routing_eval
