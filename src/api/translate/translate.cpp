// Dispatch by dialect pair, and the helpers every translator shares.
#include "api/translate/translate.h"

#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/translate/translate_internal.h"
#include "core/text.h"

namespace sy::api::translate {

namespace json = boost::json;

namespace internal {

core::Error Unsupported(std::string param, std::string_view what, std::string_view target_api,
                        std::string_view fix) {
  // `param` may be a client's key (an unknown parameter) and `what` may quote a client's value
  // (an unknown part type): both bounded like every echo.
  core::ClipInPlace(param, core::kMaxEchoBytes);
  std::string message = "'" + param + "': " + core::ClipForEcho(what, 2 * core::kMaxEchoBytes) +
                        " cannot be expressed for a model that speaks " + std::string(target_api) +
                        ". " + std::string(fix);
  return core::InvalidParam(std::move(param), std::move(message));
}

core::Error Malformed(std::string_view dialect, std::string_view what) {
  return core::MakeError(core::Errc::kUpstreamUnavailable,
                         "the upstream " + std::string(dialect) + " answer is malformed: " +
                             core::ClipForEcho(what, 2 * core::kMaxEchoBytes));
}

const json::value* Find(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

const json::object* FindObject(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* FindArray(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v ? v->if_array() : nullptr;
}

std::optional<std::string_view> FindString(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

std::optional<json::object> ParseArguments(std::string_view text, json::storage_ptr sp,
                                           int64_t max_json_depth) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object(sp);
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec, sp, core::EchoParseOptions(max_json_depth));
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.get_object());
}

std::string_view FinishReasonFromStopReason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return "length";
  }
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn, and any newer reason
}

std::string_view StopReasonFromFinishReason(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  return "end_turn";  // stop (OpenAI does not say whether a stop sequence fired), and unknowns
}

}  // namespace internal

namespace {

// Same dialect on both sides: events pass through unchanged.
class PassThrough final : public StreamTranslator {
 public:
  core::Status Feed(const core::StreamEvent& upstream,
                    std::vector<core::StreamEvent>& out) override {
    out.push_back(upstream);
    return {};
  }
};

}  // namespace

namespace {

constexpr core::Dialect kHub = core::Dialect::kOpenAiChat;

core::Error NotTranslated(core::Dialect from, core::Dialect to) {
  return core::MakeError(core::Errc::kInternal, "no translation from " +
                                                    std::string(core::DialectName(from)) + " to " +
                                                    std::string(core::DialectName(to)));
}

// One hop: a dialect to the hub.
core::Result<json::object> RequestToHub(core::Dialect from, const json::object& body,
                                        json::storage_ptr sp) {
  if (from == core::Dialect::kAnthropicMessages) return AnthropicToOpenAiRequest(body, sp);
  if (from == core::Dialect::kOpenAiResponses) return internal::ResponsesToChatRequest(body, sp);
  return NotTranslated(from, kHub);
}

// One hop: the hub to a dialect.
core::Result<json::object> RequestFromHub(core::Dialect to, const json::object& body,
                                          json::storage_ptr sp, const TargetModel& target,
                                          int64_t max_json_depth) {
  if (to == core::Dialect::kAnthropicMessages) {
    return OpenAiToAnthropicRequest(body, sp, target, max_json_depth);
  }
  if (to == core::Dialect::kOpenAiResponses) return internal::ChatToResponsesRequest(body, sp);
  return NotTranslated(kHub, to);
}

core::Result<json::object> AnswerToHub(core::Dialect from, const json::value& upstream,
                                       const core::Usage& usage, const Context& ctx,
                                       json::storage_ptr sp) {
  if (from == core::Dialect::kAnthropicMessages) {
    return internal::AnthropicToOpenAiResponse(upstream, usage, ctx, sp);
  }
  if (from == core::Dialect::kOpenAiResponses) {
    return internal::ResponsesToChatResponse(upstream, usage, ctx, sp);
  }
  return NotTranslated(from, kHub);
}

core::Result<json::object> AnswerFromHub(core::Dialect to, const json::value& hub,
                                         const core::Usage& usage, const Context& ctx,
                                         json::storage_ptr sp) {
  if (to == core::Dialect::kAnthropicMessages) {
    return internal::OpenAiToAnthropicResponse(hub, usage, ctx, sp);
  }
  if (to == core::Dialect::kOpenAiResponses) {
    return internal::ChatToResponsesResponse(hub, usage, ctx, sp);
  }
  return NotTranslated(kHub, to);
}

std::unique_ptr<StreamTranslator> StreamToHub(core::Dialect from, const Context& ctx) {
  if (from == core::Dialect::kAnthropicMessages) return internal::MakeAnthropicToOpenAiStream(ctx);
  if (from == core::Dialect::kOpenAiResponses) return internal::MakeResponsesToChatStream(ctx);
  return nullptr;
}

std::unique_ptr<StreamTranslator> StreamFromHub(core::Dialect to, const Context& ctx) {
  if (to == core::Dialect::kAnthropicMessages) return internal::MakeOpenAiToAnthropicStream(ctx);
  if (to == core::Dialect::kOpenAiResponses) return internal::MakeChatToResponsesStream(ctx);
  return nullptr;
}

// Two hops through the hub: every event the first yields is fed to the second at once.
class ThroughHub final : public StreamTranslator {
 public:
  ThroughHub(std::unique_ptr<StreamTranslator> to_hub, std::unique_ptr<StreamTranslator> from_hub)
      : to_hub_(std::move(to_hub)), from_hub_(std::move(from_hub)) {}

  core::Status Feed(const core::StreamEvent& upstream,
                    std::vector<core::StreamEvent>& out) override {
    hub_.clear();
    if (auto s = to_hub_->Feed(upstream, hub_); !s) return s;
    for (const auto& event : hub_) {
      if (auto s = from_hub_->Feed(event, out); !s) return s;
    }
    return {};
  }

 private:
  std::unique_ptr<StreamTranslator> to_hub_;
  std::unique_ptr<StreamTranslator> from_hub_;
  std::vector<core::StreamEvent> hub_;  // reused: one hop's events for one upstream event
};

// A second hop's refusal ends its advice with "choose a model that speaks the OpenAI Chat
// Completions API", the hub's, because that hop translates from the hub. The client speaks
// another API, and a model that speaks the client's own needs no translation at all: that is
// the one to name.
void AdviseClientsOwnApi(core::Dialect client, core::Error& refusal) {
  constexpr std::string_view kHubAdvice = "a model that speaks the OpenAI Chat Completions API";
  const size_t at = refusal.message.rfind(kHubAdvice);
  if (at == std::string::npos) return;
  const std::string_view api = client == core::Dialect::kAnthropicMessages
                                   ? internal::kAnthropicApi
                                   : internal::kResponsesApi;
  refusal.message.replace(at, kHubAdvice.size(), "a model that speaks " + std::string(api));
}

}  // namespace

core::Result<json::object> TranslateRequest(core::Dialect from, core::Dialect to,
                                            const json::object& body, json::storage_ptr sp,
                                            const TargetModel& target, int64_t max_json_depth) {
  if (from == to) return json::object(body, std::move(sp));
  if (from == kHub) return RequestFromHub(to, body, std::move(sp), target, max_json_depth);
  auto hub = RequestToHub(from, body, sp);
  if (!hub || to == kHub) return hub;
  auto out = RequestFromHub(to, *hub, std::move(sp), target, max_json_depth);
  if (out) return out;
  // The second hop names what it refuses in the hub's notation; the client sent its own.
  core::Error refusal = std::move(out).error();
  NameParamForClient(from, kHub, body, refusal);
  AdviseClientsOwnApi(from, refusal);
  return refusal;
}

core::Result<std::string> TranslateResponse(core::Dialect from, core::Dialect to,
                                            const json::value& upstream, const core::Usage& usage,
                                            const Context& ctx) {
  if (from == to) return json::serialize(upstream);
  json::monotonic_resource arena;
  json::storage_ptr sp(&arena);
  core::Result<json::object> out = core::MakeError(core::Errc::kInternal, "not translated");
  if (from == kHub) {
    out = AnswerFromHub(to, upstream, usage, ctx, sp);
  } else {
    out = AnswerToHub(from, upstream, usage, ctx, sp);
    if (out && to != kHub) out = AnswerFromHub(to, json::value(std::move(*out)), usage, ctx, sp);
  }
  if (!out) return std::move(out).error();
  return json::serialize(*out);
}

std::unique_ptr<StreamTranslator> MakeStreamTranslator(core::Dialect from, core::Dialect to,
                                                       const Context& ctx) {
  if (from == to) return std::make_unique<PassThrough>();
  if (from == kHub) return StreamFromHub(to, ctx);
  if (to == kHub) return StreamToHub(from, ctx);
  return std::make_unique<ThroughHub>(StreamToHub(from, ctx), StreamFromHub(to, ctx));
}

}  // namespace sy::api::translate
