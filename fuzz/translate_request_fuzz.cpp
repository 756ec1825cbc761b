// api::translate::TranslateRequest, every direction, on bodies the client's decoder accepted
// (its REQUIRES): each input is decoded as a Chat, a Responses and a Messages request, and
// whatever decodes is translated to the other two dialects (through the hub where it takes two
// hops), for both kinds of Anthropic target. Translation must never throw, crash or leak, and
// refuses only with kInvalidRequest.
#include <cstddef>
#include <cstdint>

#include <boost/json/monotonic_resource.hpp>

#include "api/anthropic/decode.h"
#include "api/openai/decode.h"
#include "api/responses/decode.h"
#include "api/translate/translate.h"
#include "fuzz_check.h"

namespace {

using sy::core::Dialect;

constexpr int64_t kMaxDepth = 64;

void Translate(const sy::core::Request& request, Dialect to, bool native_structured_output) {
  boost::json::monotonic_resource arena;
  sy::api::translate::TargetModel target;
  target.native_structured_output = native_structured_output;
  const auto out =
      sy::api::translate::TranslateRequest(request.dialect, to, request.body, &arena, target);
  if (!out) {
    sy::fuzz::Check(out.error().code == sy::core::Errc::kInvalidRequest,
                    "refusal is kInvalidRequest");
    return;
  }
  sy::fuzz::Check(!out->contains("model"), "the translation leaves model to the provider");
}

void ToOthers(const sy::core::Request& request) {
  for (auto to : {Dialect::kOpenAiChat, Dialect::kOpenAiResponses, Dialect::kAnthropicMessages}) {
    if (to == request.dialect) continue;
    Translate(request, to, true);
    if (to == Dialect::kAnthropicMessages) Translate(request, to, false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto body = sy::fuzz::AsText(data, size);
  if (sy::core::Request chat; sy::api::openai::DecodeChatRequest(body, kMaxDepth, chat)) {
    ToOthers(chat);
  }
  if (sy::core::Request responses;
      sy::api::responses::DecodeResponsesRequest(body, kMaxDepth, responses)) {
    ToOthers(responses);
  }
  if (sy::core::Request anthropic;
      sy::api::anthropic::DecodeMessagesRequest(body, kMaxDepth, anthropic)) {
    ToOthers(anthropic);
  }
  return 0;
}
