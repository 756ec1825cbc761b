// PromptTokens: the emulator's deterministic tokenisation of a prompt, used both for usage
// counts and for prompt-cache prefix matching.
//
// Counting rule (documented for test authors, the same in both dialects):
//   - each message (and the system prompt) costs kMessageOverheadTokens for its role marker;
//   - each text (message content, text parts, tool-call arguments and names, tool results,
//     the tool definitions serialised as JSON) costs ceil(bytes / 4);
//   - each image part costs kImageTokens;
//   - OpenAI adds kReplyPrimerTokens at the end (the assistant reply primer).
// Every token has an id (a hash of its text), so two prompts share a token prefix exactly when
// they share a text prefix cut at the same places.
//
// Thread-safety: a plain value, owned by one request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sy::emulator {

inline constexpr int64_t kMessageOverheadTokens = 3;
inline constexpr int64_t kReplyPrimerTokens = 3;
inline constexpr int64_t kImageTokens = 85;

class PromptTokens {
 public:
  void AddRoleMarker(std::string_view role);
  void AddText(std::string_view text);
  void AddImage();
  void AddReplyPrimer();
  // Records a cache breakpoint (Anthropic cache_control) at the current end of the prompt.
  void MarkBreakpoint();

  int64_t count() const { return static_cast<int64_t>(ids_.size()); }
  const std::vector<uint64_t>& ids() const { return ids_; }
  // Prompt lengths (in tokens) at which breakpoints were marked, ascending.
  const std::vector<size_t>& breakpoints() const { return breakpoints_; }

 private:
  void AddFixed(std::string_view tag, int64_t n);

  std::vector<uint64_t> ids_;
  std::vector<size_t> breakpoints_;
};

}  // namespace sy::emulator
