// The answer context every translation fuzz target uses: fixed values, and a Responses request
// (empty: every echoed field takes its default) that lives for the whole run.
#pragma once

#include <boost/json/object.hpp>

#include "api/translate/translate.h"

namespace sy::fuzz {

inline api::translate::Context TranslationContext() {
  static const boost::json::object kResponsesRequest;
  api::translate::Context ctx;
  ctx.created_unix_s = 1700000000;
  ctx.response_id = "resp_fuzz";
  ctx.responses_request = &kResponsesRequest;
  ctx.input_tokens_estimate = 10;
  return ctx;
}

// The three dialects, for targets that try every direction.
inline constexpr core::Dialect kDialects[] = {
    core::Dialect::kOpenAiChat, core::Dialect::kOpenAiResponses, core::Dialect::kAnthropicMessages};

}  // namespace sy::fuzz
