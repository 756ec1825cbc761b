// api::openai::DecodeChatRequest on arbitrary bytes: it must never throw, crash or leak, and a
// body it accepts must be what it says it is, and its prompt must read and classify.
#include <cstddef>
#include <cstdint>

#include "api/openai/decode.h"
#include "api/openai/prompt.h"
#include "fuzz_check.h"
#include "fuzz_routing.h"

namespace {
constexpr int64_t kMaxDepth = 64;  // config's server.max_json_depth default
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sy::fuzz::Check;
  sy::core::Request request;
  const auto status =
      sy::api::openai::DecodeChatRequest(sy::fuzz::AsText(data, size), kMaxDepth, request);
  if (!status) {
    Check(status.error().code == sy::core::Errc::kInvalidRequest, "refusal is kInvalidRequest");
    return 0;
  }
  Check(request.dialect == sy::core::Dialect::kOpenAiChat, "dialect is OpenAI");
  const auto* model = request.body.if_contains("model");
  Check(model && model->is_string() && model->get_string() == request.model, "model is the body's");
  Check(!request.include_usage || request.body.contains("stream_options"),
        "include_usage comes from stream_options");
  sy::fuzz::CheckClassified(sy::api::openai::ReadChatPrompt(request.body, size), size);
  return 0;
}
