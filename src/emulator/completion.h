// Dialect-neutral answer generation: what the emulated model "says" for a request, as token
// pieces, before a dialect encodes it. Deterministic: the same GenerationRequest always yields
// the same choices.
//
// Decisions (documented for test authors):
//   - With tools offered, a tool mode other than kNone, and a conversation that does not end
//     with a tool result, the answer is a tool call to the first tool (kNamed: the named one);
//     kRequired with parallel calls allowed and >= 2 tools calls the first two. Arguments are
//     generated from the tool's JSON schema.
//   - After a tool result the answer is text that starts "The tool returned: <result excerpt>."
//   - Otherwise prose of 20..60 word tokens (kJsonObject: a JSON object {"answer", "confidence"};
//     kJsonSchema: JSON valid against the schema, cut into 4-byte tokens).
//   - Fixed answers (task-suite items, quality.h): when `answers` is given and
//     FixedAnswerAllowed, choice i says answers[i] instead (a word token each in kText, 4-byte
//     tokens in the JSON formats) and calls no tool, even with tools offered in auto mode. Stop
//     sequences and max_tokens cut it as any answer.
//   - Reasoning models spend 8..39 hidden reasoning tokens, at most half of max_tokens; they
//     count toward max_tokens and the output tokens, as OpenAI counts them.
//   - Output tokens = reasoning tokens + visible text tokens + tool-argument tokens.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace sy::emulator {

struct ToolSpec {
  std::string name;
  boost::json::value parameters;  // JSON schema of the arguments
};

enum class ToolMode { kNone, kAuto, kRequired, kNamed };
enum class OutputFormat { kText, kJsonObject, kJsonSchema };
// kRefusal: the model declined; its text is a refusal, not an answer (only a bad_output fault
// produces it, see bad_output.h).
enum class Finish { kEndTurn, kLength, kStopSequence, kToolCalls, kRefusal };

struct GenerationRequest {
  uint64_t seed = 0;  // a hash of the conversation
  int n = 1;
  std::vector<std::string> stop;
  std::optional<int64_t> max_tokens;  // limit on all output tokens, reasoning included
  std::vector<ToolSpec> tools;
  ToolMode tool_mode = ToolMode::kAuto;
  std::string named_tool;  // kNamed
  bool parallel_tool_calls = true;
  std::optional<std::string> tool_result;  // set when the conversation ends with a tool result
  OutputFormat format = OutputFormat::kText;
  boost::json::value schema;  // kJsonSchema
  bool reasoning = false;
  bool text_before_tool = false;  // a short text precedes tool calls (Anthropic, tool mode auto)
  // Fixed answer texts, one per choice (choices beyond them are generated); empty = generate.
  std::vector<std::string> answers;
};

// Whether a fixed answer may replace generation: no tool call is forced (tool mode kRequired or
// kNamed) and the conversation does not end with a tool result.
bool FixedAnswerAllowed(const GenerationRequest& request);

struct GeneratedToolCall {
  std::string name;
  std::string arguments;  // JSON text; may be cut short when the token limit struck
  std::vector<std::string> argument_pieces;
  uint64_t id_seed = 0;  // for the dialect's tool-call id
};

struct GeneratedChoice {
  std::vector<std::string> text_pieces;
  std::vector<GeneratedToolCall> tool_calls;
  Finish finish = Finish::kEndTurn;
  std::string stop_sequence;  // the one that matched, for kStopSequence
  int64_t reasoning_tokens = 0;
  int64_t output_tokens = 0;
  uint64_t seed = 0;

  std::string Text() const;
};

std::vector<GeneratedChoice> Generate(const GenerationRequest& request);

struct Truncation {
  std::vector<std::string> pieces;
  Finish finish = Finish::kEndTurn;
  std::string stop_sequence;
};

// Applies stop sequences and a token limit to generated pieces the way a model stops: at the
// first stop sequence completed within the first `max_tokens` tokens (text cut before it,
// kStopSequence), else after `max_tokens` tokens (kLength), else at the natural end (kEndTurn).
Truncation Truncate(std::vector<std::string> pieces, const std::vector<std::string>& stop,
                    std::optional<int64_t> max_tokens);

// Groups pieces into stream events of 1..3 tokens each: (text, token count) pairs.
std::vector<std::pair<std::string, int64_t>> GroupPieces(const std::vector<std::string>& pieces,
                                                         uint64_t seed);

}  // namespace sy::emulator
