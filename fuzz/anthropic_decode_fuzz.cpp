// api::anthropic::DecodeMessagesRequest on arbitrary bytes: it must never throw, crash or leak;
// a refused body leaves the request unchanged, an accepted one is what it says it is, and its
// prompt must read and classify.
#include <cstddef>
#include <cstdint>

#include "api/anthropic/decode.h"
#include "api/anthropic/prompt.h"
#include "fuzz_check.h"
#include "fuzz_routing.h"

namespace {
constexpr int64_t kMaxDepth = 64;  // config's server.max_json_depth default
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sy::fuzz::Check;
  sy::core::Request request;
  const auto status =
      sy::api::anthropic::DecodeMessagesRequest(sy::fuzz::AsText(data, size), kMaxDepth, request);
  if (!status) {
    Check(status.error().code == sy::core::Errc::kInvalidRequest, "refusal is kInvalidRequest");
    Check(request.model.empty() && request.body.empty() && !request.stream,
          "a refused body leaves the request unchanged");
    return 0;
  }
  Check(request.dialect == sy::core::Dialect::kAnthropicMessages, "dialect is Anthropic");
  Check(request.include_usage, "Anthropic streams always carry usage");
  const auto* model = request.body.if_contains("model");
  Check(model && model->is_string() && model->get_string() == request.model, "model is the body's");
  sy::fuzz::CheckClassified(sy::api::anthropic::ReadMessagesPrompt(request.body, size), size);
  return 0;
}
