// api::translate::TranslateRequest, both directions, on bodies the client's decoder accepted
// (its REQUIRES): each input is decoded as an OpenAI and as an Anthropic request, and whatever
// decodes is translated to the other dialect. Translation must never throw, crash or leak, and
// refuses only with kInvalidRequest.
#include <cstddef>
#include <cstdint>

#include <boost/json/monotonic_resource.hpp>

#include "api/anthropic/decode.h"
#include "api/openai/decode.h"
#include "api/translate/translate.h"
#include "fuzz_check.h"

namespace {

using sy::core::Dialect;

constexpr int64_t kMaxDepth = 64;

void Translate(const sy::core::Request& request, Dialect to) {
  boost::json::monotonic_resource arena;
  const auto out = sy::api::translate::TranslateRequest(request.dialect, to, request.body, &arena);
  if (!out) {
    sy::fuzz::Check(out.error().code == sy::core::Errc::kInvalidRequest,
                    "refusal is kInvalidRequest");
    return;
  }
  sy::fuzz::Check(!out->contains("model"), "the translation leaves model to the provider");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto body = sy::fuzz::AsText(data, size);
  if (sy::core::Request openai; sy::api::openai::DecodeChatRequest(body, kMaxDepth, openai)) {
    Translate(openai, Dialect::kAnthropicMessages);
  }
  if (sy::core::Request anthropic;
      sy::api::anthropic::DecodeMessagesRequest(body, kMaxDepth, anthropic)) {
    Translate(anthropic, Dialect::kOpenAiChat);
  }
  return 0;
}
