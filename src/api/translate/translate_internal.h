// Helpers shared by the translators in api/translate/; not for use outside this folder.
//
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "api/translate/translate.h"
#include "core/error.h"
#include "core/prompt.h"
#include "core/result.h"
#include "core/text.h"
#include "core/usage.h"

namespace sy::api::translate::internal {

inline constexpr std::string_view kAnthropicApi = "the Anthropic Messages API";
inline constexpr std::string_view kOpenAiApi = "the OpenAI Chat Completions API";
inline constexpr std::string_view kResponsesApi = "the OpenAI Responses API";

// A Chat client's JSON answer (response_format json_object, or json_schema for an Anthropic model
// without native structured output) is asked of Anthropic as a forced call of this tool, whose
// input is the answer; the answer translators unwrap a tool_use of this name into the message
// content. Reserved: a client tool of this name is refused, so every call of it is ours.
using core::kJsonAnswerTool;

// kInvalidRequest about `param`: "'<param>': <what> cannot be expressed for a model that speaks
// <target_api>. <fix>". `param` (which may be a client's key) is clipped to core::kMaxEchoBytes
// and `what` to twice that; quote client text in `what` through core::ClipForEcho all the same,
// so that no fragment is built whole first. Where `what` or `fix` name the refused parameter,
// they quote it as the lead does ("Omit 'stop' and ..."): a refusal on the second hop through
// the hub is renamed for the client by exactly that quoted name (NameParamForClient).
core::Error Unsupported(std::string param, std::string_view what, std::string_view target_api,
                        std::string_view fix);

// kUpstreamUnavailable: "the upstream <dialect> answer is malformed: <what>".
core::Error Malformed(std::string_view dialect, std::string_view what);

// Field lookups that never throw. A field whose value is null counts as absent.
const boost::json::value* Find(const boost::json::object& obj, std::string_view key);
const boost::json::object* FindObject(const boost::json::object& obj, std::string_view key);
const boost::json::array* FindArray(const boost::json::object& obj, std::string_view key);
std::optional<std::string_view> FindString(const boost::json::object& obj, std::string_view key);

// Parses a tool call's `arguments` text as a JSON object allocated from `sp`; an empty (or
// all-blank) text means no arguments, {}. nullopt when it is not JSON or not an object, or nests
// deeper than core::EchoJsonDepth(max_json_depth): arguments follow the client's tool schema,
// so they nest as deep as a body accepted under max_json_depth may.
std::optional<boost::json::object> ParseArguments(std::string_view text,
                                                  boost::json::storage_ptr sp,
                                                  int64_t max_json_depth);

// Stop and finish reasons. Unknown or missing values map to the plain stop of the other side.
std::string_view FinishReasonFromStopReason(std::string_view anthropic_stop_reason);
std::string_view StopReasonFromFinishReason(std::string_view openai_finish_reason);

// The per-direction halves of the public functions. Answers are built in `sp` (an arena the
// caller serializes from once, whichever number of hops the translation took).
core::Status OpenAiMessagesToAnthropic(const boost::json::array& messages, int64_t max_json_depth,
                                       boost::json::object& out);
// Chat's response_format on the Anthropic request `out`, whose tools and tool_choice are already
// translated (`client_tool_choice` is the client's own tool_choice, null when absent). Sets
// output_config.format for a native json_schema, or adds the kJsonAnswerTool tool and the
// tool_choice that forces it (the table in structured_output.cpp). Fails with kInvalidRequest
// naming the response_format field that cannot be expressed.
core::Status ResponseFormatToAnthropic(const boost::json::value& response_format,
                                       const boost::json::value* client_tool_choice,
                                       const TargetModel& target, boost::json::object& out);

// Anthropic's output_config (`key` "output_config") or beta output_format (`key`
// "output_format") as Chat's response_format on `out`. Fails with kInvalidRequest naming the
// field that cannot be expressed.
core::Status OutputFormatToOpenAi(std::string_view key, const boost::json::value& value,
                                  boost::json::object& out);

core::Status AnthropicMessagesToOpenAi(const boost::json::object& body, boost::json::object& out);
core::Result<boost::json::object> OpenAiToAnthropicResponse(const boost::json::value& upstream,
                                                            const core::Usage& usage,
                                                            const Context& ctx,
                                                            boost::json::storage_ptr sp);
core::Result<boost::json::object> AnthropicToOpenAiResponse(const boost::json::value& upstream,
                                                            const core::Usage& usage,
                                                            const Context& ctx,
                                                            boost::json::storage_ptr sp);
std::unique_ptr<StreamTranslator> MakeOpenAiToAnthropicStream(const Context& ctx);
std::unique_ptr<StreamTranslator> MakeAnthropicToOpenAiStream(const Context& ctx);

// --- Responses <-> hub (Chat Completions) ----------------------------------------------------
// A Responses client served through the hub: its request as a Chat Completions request (the
// result lacks "model"; "stream" is kept and, when true, stream_options.include_usage is set),
// a Chat completion as a Response object, and a Chat chunk stream as Responses' typed events
// (each with its sequence_number; response.completed carries the whole Response).
core::Result<boost::json::object> ResponsesToChatRequest(const boost::json::object& body,
                                                         boost::json::storage_ptr sp);
core::Result<boost::json::object> ChatToResponsesResponse(const boost::json::value& upstream,
                                                          const core::Usage& usage,
                                                          const Context& ctx,
                                                          boost::json::storage_ptr sp);
// The Responses events repeat the answer whole at the end (output_text.done, the completed
// Response), so this translator holds it: past this many bytes of text and arguments, as a
// complete answer's bound (providers' kMaxResponseBytes), the stream fails (kUpstreamUnavailable).
inline constexpr int64_t kMaxHeldStreamBytes = int64_t{64} * 1024 * 1024;
std::unique_ptr<StreamTranslator> MakeChatToResponsesStream(const Context& ctx);

// A hub request served by a model whose provider speaks Responses natively (kind openai, api
// responses): the Chat request as a Responses request (store false: the gateway keeps the
// conversation state), a Response object as a Chat completion, and Responses' typed events as
// the chunk stream a Chat upstream would send with stream_options.include_usage (role chunk,
// deltas, finish chunk, usage chunk, [DONE]).
core::Result<boost::json::object> ChatToResponsesRequest(const boost::json::object& body,
                                                         boost::json::storage_ptr sp);
core::Result<boost::json::object> ResponsesToChatResponse(const boost::json::value& upstream,
                                                          const core::Usage& usage,
                                                          const Context& ctx,
                                                          boost::json::storage_ptr sp);
std::unique_ptr<StreamTranslator> MakeResponsesToChatStream(const Context& ctx);

}  // namespace sy::api::translate::internal
