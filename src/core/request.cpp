#include "core/request.h"

namespace sy::core {

std::string_view DialectName(Dialect dialect) {
  switch (dialect) {
    case Dialect::kOpenAiChat:
      return "openai";
    case Dialect::kAnthropicMessages:
      return "anthropic";
    case Dialect::kOpenAiResponses:
      return "responses";
  }
  return "openai";
}

std::optional<Dialect> ParseDialectName(std::string_view name) {
  for (Dialect d : {Dialect::kOpenAiChat, Dialect::kAnthropicMessages, Dialect::kOpenAiResponses}) {
    if (DialectName(d) == name) return d;
  }
  return std::nullopt;
}

}  // namespace sy::core
