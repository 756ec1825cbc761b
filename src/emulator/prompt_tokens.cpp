#include "emulator/prompt_tokens.h"

#include <string>

#include "emulator/text_gen.h"

namespace sy::emulator {

void PromptTokens::AddFixed(std::string_view tag, int64_t n) {
  uint64_t base = Fnv1a(tag);
  for (int64_t i = 0; i < n; ++i) ids_.push_back(Mix(base, static_cast<uint64_t>(i)));
}

void PromptTokens::AddRoleMarker(std::string_view role) {
  AddFixed("<|" + std::string(role) + "|>", kMessageOverheadTokens);
}

void PromptTokens::AddText(std::string_view text) {
  for (const auto& piece : SplitIntoPieces(text)) ids_.push_back(Fnv1a(piece));
}

void PromptTokens::AddImage() { AddFixed("<|image|>", kImageTokens); }

void PromptTokens::AddReplyPrimer() { AddFixed("<|assistant_reply|>", kReplyPrimerTokens); }

void PromptTokens::MarkBreakpoint() {
  if (breakpoints_.empty() || breakpoints_.back() != ids_.size()) {
    breakpoints_.push_back(ids_.size());
  }
}

}  // namespace sy::emulator
