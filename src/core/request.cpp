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

}  // namespace sy::core
