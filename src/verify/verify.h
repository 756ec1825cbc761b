// verify: checks over a model's answer, pure functions over plain data (issue 18).
//
// The app reads which checks a request asks for (ParseCheckList, the x-switchyard-verify header),
// what the request expects of the answer (ReadSpec, in the client's dialect), and the answer
// (ReadAnswer or StreamCollector, in the upstream's dialect), then calls Run. A failed Verdict
// lets the app escalate to a stronger model. Nothing here does I/O.
//
// Thread-safety: functions are pure; Check and Spec are immutable once built and may be shared
// across threads (compiled schemas and regexes are shared_ptr<const>). A StreamCollector belongs
// to one stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/regex_fwd.hpp>  // the compiled regex is held by pointer

#include "core/json_depth.h"
#include "core/prompt.h"
#include "core/request.h"
#include "core/result.h"
#include "core/stream_event.h"
#include "verify/schema.h"

namespace sy::verify {

enum class CheckKind : uint8_t {
  kJson,
  kJsonSchema,
  kNonEmpty,
  kNoRefusal,
  kRegex,
  kToolCall,
  kGrounded
};

// "json", "json_schema", "non_empty", "no_refusal", "regex", "tool_call", "grounded".
std::string_view CheckName(CheckKind kind);
std::optional<CheckKind> ParseCheckName(std::string_view name);

inline constexpr double kDefaultMinSupport = 0.8;

struct Check {
  CheckKind kind = CheckKind::kNonEmpty;
  std::string pattern;                        // kRegex: as configured (for messages)
  std::shared_ptr<const boost::regex> regex;  // kRegex: compiled
  double min_support = kDefaultMinSupport;    // kGrounded
};

// A regex check. Fails (kInvalidRequest) with boost's message when `pattern` does not compile.
core::Result<Check> RegexCheck(std::string_view pattern);

inline constexpr size_t kMaxCheckListBytes = 256;
inline constexpr size_t kMaxCheckListNames = 16;

// The x-switchyard-verify header: comma-separated check names, spaces allowed, duplicates folded,
// order kept. Fails with core::InvalidParam("x-switchyard-verify", ...) on an unknown name, on
// `regex` (it needs a pattern, so only config can ask for it), and on more than
// kMaxCheckListNames names or kMaxCheckListBytes bytes. Echoed names are clipped.
core::Result<std::vector<Check>> ParseCheckList(std::string_view header);

// What the client's request asks of the answer, read from its body in the CLIENT's dialect.
struct Tool {
  std::string name;
  std::shared_ptr<const CompiledSchema> schema;  // null: no schema (or not compiled)
};
struct Spec {
  // OpenAI Chat response_format {type: json_schema, json_schema: {schema}}; Responses
  // text.format {type: json_schema, schema}; Anthropic output_format / output_config.format
  // {type: json_schema, schema}; or the input_schema of an Anthropic forced tool.
  std::shared_ptr<const CompiledSchema> answer_schema;
  std::string forced_tool;     // tool_choice names one function/tool ("" none)
  bool tool_required = false;  // tool_choice forces some call (OpenAI required/named; any/tool)
  std::vector<Tool> tools;     // function tools offered, with compiled schemas (for tool_call)
  std::string context;         // supplied context, for grounded
};

inline constexpr size_t kMaxContextBytes = 1 << 20;

// Reads the spec. Compiles only what `checks` need (answer_schema for json_schema, tool schemas
// for tool_call, the context for grounded), so an unverified request pays nothing. A schema that
// does not compile fails with CompileSchema's 400 naming the request field
// ("tools[1].function.parameters: invalid JSON Schema at /type: ...").
// The context is the prompt's system, user and tool texts (not earlier assistant turns), joined
// with '\n', cut at kMaxContextBytes.
core::Result<Spec> ReadSpec(core::Dialect dialect, const boost::json::object& body,
                            const core::Prompt& prompt, const std::vector<Check>& checks);

// The answer, read from the UPSTREAM's wire format.
enum class Stop : uint8_t { kComplete, kLength, kToolUse, kContentFilter, kRefusal, kOther };
struct ToolCall {
  std::string name;
  std::string arguments;  // JSON text
};
struct Output {
  std::string text;     // all text content, concatenated
  std::string refusal;  // an explicit refusal (Chat message.refusal, Responses refusal part)
  std::vector<ToolCall> tool_calls;
  Stop stop = Stop::kComplete;
  bool truncated = false;  // more than kMaxOutputBytes arrived; text was cut there
};
inline constexpr size_t kMaxOutputBytes = 4 << 20;

// A call of the gateway's own structured-output tool (core::kJsonAnswerTool) is the answer's
// TEXT: its arguments are the answer.
using core::kJsonAnswerTool;

// Reads a complete answer: Chat choices[0].message + finish_reason; Anthropic content[] +
// stop_reason; Responses output[] + status/incomplete_details. Fails (kUpstreamUnavailable)
// when `answer` is not an object of the dialect's shape.
core::Result<Output> ReadAnswer(core::Dialect upstream, const boost::json::value& answer);

// The stop of an upstream answer from its finish_reason / stop_reason / incomplete reason;
// `called`: a real tool call was made (a tool stop without one is a complete answer).
Stop StopOf(core::Dialect dialect, std::string_view reason, bool called);

// The same Output as ReadAnswer, from a stream: feed every event in order (Chat chunks,
// Anthropic events, Responses events; the Responses terminal event's Response is read whole),
// then Finish once. Bounded: kMaxOutputBytes of text and arguments, kMaxStreamCalls tool calls;
// past them `truncated` is set.
inline constexpr size_t kMaxStreamCalls = 128;
class StreamCollector {
 public:
  explicit StreamCollector(core::Dialect upstream);
  void Add(const core::StreamEvent& event);
  Output Finish();

 private:
  struct Call {
    int64_t index = 0;
    std::string name;
    std::string arguments;
  };
  void AddChat(const boost::json::object& chunk);
  void AddAnthropic(const boost::json::object& event);
  void AddResponses(const boost::json::object& event);
  void Append(std::string& to, std::string_view piece);
  Call& CallAt(int64_t index);

  core::Dialect upstream_;
  std::string text_, refusal_, reason_;
  std::vector<Call> calls_;
  Call overflow_;
  std::optional<Output> final_;
  size_t bytes_ = 0;
  bool truncated_ = false;
};

struct Options {
  std::vector<std::string> refusal_phrases;  // compared case-insensitively
  // The limit the client's body was accepted under (core::Request::max_json_depth). An answer
  // shaped by the client's schemas (a JSON answer, tool-call arguments) is parsed with
  // core::EchoParseOptions of it: as deep as the schema, it is not "not JSON".
  int64_t max_json_depth = core::kDefaultMaxJsonDepth;
};
// "i can't help with", "i cannot help with", "i'm sorry, but i can", "i am unable to",
// "as an ai language model", ... (lower case, ASCII apostrophes).
std::vector<std::string> DefaultRefusalPhrases();

inline constexpr size_t kMaxReasonBytes = 300;

struct Verdict {
  bool passed = true;
  std::optional<CheckKind> failed;  // the first check that failed
  std::string reason;               // "json_schema: /age: ..." (at most ~kMaxReasonBytes)
  std::vector<CheckKind> ran;       // the checks evaluated, in order (inapplicable ones too)
};

// Runs the checks in order and stops at the first failure.
Verdict Run(const std::vector<Check>& checks, const Spec& spec, const Output& output,
            const Options& options);

}  // namespace sy::verify
