// routing::Classify: what a request is (its task type) and the facts a routing rule can match on,
// computed from the request alone, in-process, in microseconds (bench/micro/routing_bench.cpp).
//
// Pure: no I/O, no locks, no clock. Deterministic: the same prompt gives the same features.
// Thread-safety: free functions over values; call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/prompt.h"

namespace sy::routing {

// The task types, exactly these names (docs/routing.md defines each):
//   rewriting   = translate / rephrase / reformat text the user supplied;
//   grounded_qa = answer from context the user supplied (RAG);
//   agentic     = tools are offered and the model is expected to act.
enum class TaskType : uint8_t {
  kExtraction,
  kClassification,
  kSummarization,
  kRewriting,
  kCode,
  kMath,
  kReasoning,
  kFactual,
  kGroundedQa,
  kCreative,
  kChat,
  kAgentic,
};
inline constexpr size_t kTaskTypeCount = 12;
inline constexpr std::array<std::string_view, kTaskTypeCount> kTaskTypeNames = {
    "extraction", "classification", "summarization", "rewriting", "code", "math",
    "reasoning",  "factual",        "grounded_qa",   "creative",  "chat", "agentic"};

std::string_view TaskTypeName(TaskType type);
// The task type with that exact name; nullopt for anything else.
std::optional<TaskType> ParseTaskType(std::string_view name);

struct Features {
  TaskType task_type = TaskType::kChat;
  bool task_stated = false;   // the caller stated the type (x-switchyard-task) and it was trusted
  int64_t prompt_tokens = 0;  // estimated: text, tool schemas, images
  int64_t max_output_tokens = 0;       // the client's cap; 0 = none given
  int64_t expected_output_tokens = 0;  // estimated for the task type, within the client's cap
  int64_t choices = 1;                 // answers asked for (OpenAI's n): outputs are billed each
  bool tools = false;                  // tools offered
  bool tool_required = false;          // a tool call is forced
  bool tool_results = false;           // tool results in the conversation
  bool json_output = false;            // json_object, json_schema or a forced tool
  bool json_schema = false;            // json_schema or a forced tool: needs the capability
  bool code = false;                   // code in the prompt (fences or code-like lines)
  bool context = false;                // supplied context: documents, passages, tool results
  int images = 0;
  std::string_view language = "en";  // ISO 639-1 of the user's text, or "other" (static storage)
  int depth = 0;                     // user turns in the conversation
};

// Tokens in `text`, estimated without a tokenizer: about four ASCII bytes per token, one token per
// non-ASCII character (CJK scripts run near one token per character; accented Latin text is
// overestimated, which errs on the safe side for context windows and cost ceilings).
int64_t EstimateTokens(std::string_view text);

// Classifies `prompt`. `stated`, when given, is the task type the caller stated and the policy
// trusts: it is used as is (task_stated = true) and the text is not classified.
Features Classify(const core::Prompt& prompt, std::optional<TaskType> stated = std::nullopt);

}  // namespace sy::routing
