// api::responses::DecodeResponsesRequest (and the call-id check the gateway runs after expanding
// a stored conversation) on arbitrary bytes: it must never throw, crash or leak, a body it
// accepts must be what it says it is, and its prompt must read and classify.
#include <cstddef>
#include <cstdint>

#include "api/responses/decode.h"
#include "api/responses/prompt.h"
#include "fuzz_check.h"
#include "fuzz_routing.h"

namespace {
constexpr int64_t kMaxDepth = 64;  // config's server.max_json_depth default
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sy::fuzz::Check;
  sy::core::Request request;
  const auto status =
      sy::api::responses::DecodeResponsesRequest(sy::fuzz::AsText(data, size), kMaxDepth, request);
  if (!status) {
    Check(status.error().code == sy::core::Errc::kInvalidRequest, "refusal is kInvalidRequest");
    return 0;
  }
  Check(request.dialect == sy::core::Dialect::kOpenAiResponses, "dialect is Responses");
  const auto* model = request.body.if_contains("model");
  Check(model && model->is_string() && model->get_string() == request.model, "model is the body's");
  if (const auto* input = request.body.if_contains("input"); input && input->is_array()) {
    const auto calls = sy::api::responses::CheckFunctionCallOutputs(input->get_array());
    Check(calls || calls.error().code == sy::core::Errc::kInvalidRequest,
          "a call-id refusal is kInvalidRequest");
  }
  sy::fuzz::CheckClassified(sy::api::responses::ReadResponsesPrompt(request.body, size), size);
  return 0;
}
