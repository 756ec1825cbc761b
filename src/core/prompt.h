// core::Prompt: what a request asks for, read from its body in any client dialect, for routing.
//
// It is a view: every text is a string_view into the request body's JSON (which the request
// owns), so reading a prompt copies no text. The api module fills it (one reader per dialect,
// api::openai::ReadChatPrompt, api::anthropic::ReadMessagesPrompt); routing::Classify reads it and
// never sees a wire format.
//
// Thread-safety: a plain value; valid as long as the body it was read from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::core {

enum class PromptRole : uint8_t {
  kSystem,     // system / developer instructions (OpenAI system|developer, Anthropic `system`)
  kUser,       // what the user wrote, including documents they attached
  kAssistant,  // earlier model turns
  kTool,       // tool results fed back to the model
};

// One piece of text in the conversation, in order.
struct PromptText {
  PromptRole role = PromptRole::kUser;
  int turn = 0;  // index of the message it belongs to (system texts: -1)
  std::string_view text;
};

// How the client asked the answer to be shaped.
enum class OutputFormat : uint8_t {
  kText,
  kJsonObject,  // OpenAI response_format json_object
  kJsonSchema,  // OpenAI response_format json_schema
  kForcedTool,  // Anthropic tool_choice {type: tool} / OpenAI a named function: structured output
};

// The gateway's own tool that carries structured output to a model without native support (api
// translate: a forced call whose input is the answer; verify reads its input as the answer's
// text). Reserved: a client tool of this name is refused, so every call of it is ours.
inline constexpr std::string_view kJsonAnswerTool = "switchyard_json_answer";

struct Prompt {
  std::vector<PromptText> texts;  // every text part, system first, then the messages in order
  int messages = 0;               // messages in the conversation (system instructions excluded)
  int user_turns = 0;             // of which written by the user (tool results excluded)
  int tools_offered = 0;          // function tools the model may call
  bool tool_required = false;     // tool_choice forces some tool call (required / any / named)
  bool tool_calls = false;        // an earlier assistant turn called a tool
  bool tool_results = false;      // a tool result is in the conversation
  OutputFormat output = OutputFormat::kText;
  int images = 0;                 // image parts in the conversation
  int documents = 0;              // attached documents/files (Anthropic document, OpenAI file)
  int64_t max_output_tokens = 0;  // the client's cap (max_tokens / max_completion_tokens); 0: none
  int64_t choices = 1;            // answers asked for (OpenAI's n): each one's output is billed
  size_t body_bytes = 0;          // the whole request body, tool schemas and JSON syntax included
  size_t text_bytes = 0;          // sum of texts[i].text.size()
  // The body's metadata as {key, value} strings (OpenAI `metadata`; Anthropic `metadata.user_id`),
  // for routing tags. Non-string values are left out.
  std::vector<std::pair<std::string_view, std::string_view>> metadata;

  // Appends a non-empty text and counts its bytes.
  void AddText(PromptRole role, int turn, std::string_view text) {
    if (text.empty()) return;
    texts.push_back({role, turn, text});
    text_bytes += text.size();
  }
};

// A prompt of one user message holding `text`, which it views (`text` must outlive it): a bare
// question as training data, benchmarks and tests hold it.
inline Prompt SingleUserPrompt(std::string_view text) {
  Prompt prompt;
  prompt.AddText(PromptRole::kUser, 0, text);
  prompt.messages = 1;
  prompt.user_turns = 1;
  return prompt;
}

}  // namespace sy::core
