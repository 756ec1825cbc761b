// The OpenAI Chat Completions dialect of the emulator, written from OpenAI's public API
// reference (it shares no code with providers/): POST <any prefix>/chat/completions, JSON or
// SSE answers, and OpenAI-shaped errors.
//
// Validation follows the real API's order and messages: 401 without "Authorization: Bearer
// <key>" (any key is accepted), 400 for a body that is not a JSON object, a missing `model` or
// `messages`, or an invalid parameter. Then registered faults for the body's model strike, then
// the answer is generated (see completion.h) and paced by the model's latency profile.
//
// Thread-safety: stateless functions; `state` is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/value.hpp>

#include "emulator/faults.h"
#include "emulator/http_message.h"
#include "emulator/state.h"

namespace sy::emulator {

Reply HandleOpenAiChat(const HttpRequest& request, State& state);

// {"error": {"message", "type", "param", "code"}} with OpenAI's usual headers.
Reply OpenAiError(int status, std::string_view message, std::string_view type,
                  const boost::json::value& param = nullptr,
                  const boost::json::value& code = nullptr);

// The headers of every OpenAI answer (request id, organization, rate limits).
HeaderList OpenAiHeaders(uint64_t serial);

// The checks every OpenAI endpoint makes first: a 401 without a bearer key, a 400 when the body
// is not a JSON object; otherwise the body is parsed into `parsed`.
std::optional<Reply> ReadOpenAiBody(const HttpRequest& request, boost::json::value& parsed);

// The reply of a status fault, with retry-after and x-ratelimit-* headers for 429.
Reply OpenAiFaultReply(const Fault& fault, std::string_view model);

}  // namespace sy::emulator
