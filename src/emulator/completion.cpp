#include "emulator/completion.h"

#include <algorithm>
#include <string_view>

#include <boost/json.hpp>

#include "emulator/schema_gen.h"
#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

std::string GeneratedChoice::Text() const { return JoinPieces(text_pieces); }

Truncation Truncate(std::vector<std::string> pieces, const std::vector<std::string>& stop,
                    std::optional<int64_t> max_tokens) {
  Truncation out;
  std::string text = JoinPieces(pieces);
  size_t limit = pieces.size();
  if (max_tokens) limit = std::min(limit, static_cast<size_t>(std::max<int64_t>(*max_tokens, 0)));
  size_t limit_end = 0;  // bytes produced by the first `limit` pieces
  for (size_t i = 0; i < limit; ++i) limit_end += pieces[i].size();

  size_t stop_pos = std::string::npos;
  for (const auto& s : stop) {
    if (s.empty()) continue;
    size_t pos = text.find(s);
    if (pos != std::string::npos && pos + s.size() <= limit_end && pos < stop_pos) {
      stop_pos = pos;
      out.stop_sequence = s;
    }
  }
  if (stop_pos != std::string::npos) {
    size_t offset = 0;
    for (auto& piece : pieces) {
      if (offset >= stop_pos) break;
      size_t keep = std::min(piece.size(), stop_pos - offset);
      offset += piece.size();
      out.pieces.push_back(piece.substr(0, keep));
    }
    out.finish = Finish::kStopSequence;
    return out;
  }
  out.finish = limit < pieces.size() ? Finish::kLength : Finish::kEndTurn;
  pieces.resize(limit);
  out.pieces = std::move(pieces);
  return out;
}

std::vector<std::pair<std::string, int64_t>> GroupPieces(const std::vector<std::string>& pieces,
                                                         uint64_t seed) {
  std::vector<std::pair<std::string, int64_t>> groups;
  Rng rng(seed);
  size_t i = 0;
  while (i < pieces.size()) {
    size_t size = std::min<size_t>(1 + rng.Below(3), pieces.size() - i);
    std::string text;
    for (size_t j = 0; j < size; ++j) text += pieces[i + j];
    groups.emplace_back(std::move(text), static_cast<int64_t>(size));
    i += size;
  }
  return groups;
}

namespace {

std::vector<std::string> ToolResultPieces(const std::string& result, uint64_t seed) {
  constexpr size_t kExcerptBytes = 160;
  std::string excerpt = result.substr(0, kExcerptBytes);
  // Do not end the excerpt inside a UTF-8 sequence.
  while (!excerpt.empty() && (static_cast<unsigned char>(excerpt.back()) & 0x80U) != 0) {
    excerpt.pop_back();
  }
  std::vector<std::string> pieces = SplitWords("The tool returned: ");
  for (auto& piece : SplitIntoPieces(excerpt)) pieces.push_back(std::move(piece));
  pieces.emplace_back(".");
  Rng rng(seed);
  std::vector<std::string> words =
      GenerateWordPieces(rng.Next(), 8 + static_cast<int64_t>(rng.Below(13)));
  if (!words.empty()) words[0].insert(0, " ");
  for (auto& word : words) pieces.push_back(std::move(word));
  return pieces;
}

std::vector<std::string> TextPieces(const GenerationRequest& request, uint64_t seed) {
  Rng rng(seed);
  switch (request.format) {
    case OutputFormat::kJsonObject: {
      json::object answer{{"answer", JoinPieces(GenerateWordPieces(rng.Next(), 8))},
                          {"confidence", 0.5 + static_cast<double>(rng.Below(50)) / 100}};
      return SplitIntoPieces(json::serialize(answer));
    }
    case OutputFormat::kJsonSchema:
      return SplitIntoPieces(json::serialize(GenerateFromSchema(request.schema, rng.Next())));
    case OutputFormat::kText:
      break;
  }
  if (request.tool_result) return ToolResultPieces(*request.tool_result, rng.Next());
  return GenerateWordPieces(rng.Next(), 20 + static_cast<int64_t>(rng.Below(41)));
}

std::vector<const ToolSpec*> ChosenTools(const GenerationRequest& request) {
  std::vector<const ToolSpec*> chosen;
  if (request.tools.empty() || request.tool_mode == ToolMode::kNone || request.tool_result) {
    return chosen;
  }
  if (request.tool_mode == ToolMode::kNamed) {
    for (const auto& tool : request.tools) {
      if (tool.name == request.named_tool) chosen.push_back(&tool);
    }
    if (!chosen.empty()) return chosen;
  }
  chosen.push_back(&request.tools[0]);
  if (request.tool_mode == ToolMode::kRequired && request.parallel_tool_calls &&
      request.tools.size() >= 2) {
    chosen.push_back(&request.tools[1]);
  }
  return chosen;
}

// `answer`, cut into tokens as the request's format counts them (text_gen.h).
std::vector<std::string> FixedPieces(const GenerationRequest& request, std::string_view answer) {
  return request.format == OutputFormat::kText ? SplitWords(answer) : SplitIntoPieces(answer);
}

// `answer`: the choice's fixed answer, or nullptr to generate one.
GeneratedChoice GenerateChoice(const GenerationRequest& request, uint64_t seed,
                               const std::string* answer) {
  GeneratedChoice choice;
  choice.seed = seed;
  Rng rng(seed);
  if (request.reasoning) {
    choice.reasoning_tokens = 8 + static_cast<int64_t>(rng.Below(32));
    if (request.max_tokens)
      choice.reasoning_tokens = std::min(choice.reasoning_tokens, *request.max_tokens / 2);
  }
  std::optional<int64_t> visible_limit;
  if (request.max_tokens) visible_limit = *request.max_tokens - choice.reasoning_tokens;

  std::vector<const ToolSpec*> tools;
  if (answer == nullptr) tools = ChosenTools(request);
  if (tools.empty()) {
    std::vector<std::string> pieces =
        answer != nullptr ? FixedPieces(request, *answer) : TextPieces(request, rng.Next());
    Truncation t = Truncate(std::move(pieces), request.stop, visible_limit);
    choice.text_pieces = std::move(t.pieces);
    choice.finish = t.finish;
    choice.stop_sequence = std::move(t.stop_sequence);
  } else {
    int64_t budget = visible_limit.value_or(INT64_MAX);
    choice.finish = Finish::kToolCalls;
    if (request.text_before_tool) {
      auto pieces = SplitWords("I'll use the " + tools[0]->name + " tool to help with this.");
      if (static_cast<int64_t>(pieces.size()) > budget) {
        pieces.resize(static_cast<size_t>(budget));
        choice.finish = Finish::kLength;
      }
      budget -= static_cast<int64_t>(pieces.size());
      choice.text_pieces = std::move(pieces);
    }
    for (const ToolSpec* tool : tools) {
      if (choice.finish == Finish::kLength) break;
      GeneratedToolCall call;
      call.name = tool->name;
      call.id_seed = rng.Next();
      call.arguments = json::serialize(GenerateFromSchema(tool->parameters, rng.Next()));
      call.argument_pieces = SplitIntoPieces(call.arguments);
      if (static_cast<int64_t>(call.argument_pieces.size()) > budget) {
        call.argument_pieces.resize(static_cast<size_t>(std::max<int64_t>(budget, 0)));
        call.arguments = JoinPieces(call.argument_pieces);
        choice.finish = Finish::kLength;
      }
      budget -= static_cast<int64_t>(call.argument_pieces.size());
      choice.tool_calls.push_back(std::move(call));
    }
  }
  choice.output_tokens = choice.reasoning_tokens + static_cast<int64_t>(choice.text_pieces.size());
  for (const auto& call : choice.tool_calls) {
    choice.output_tokens += static_cast<int64_t>(call.argument_pieces.size());
  }
  return choice;
}

}  // namespace

bool FixedAnswerAllowed(const GenerationRequest& request) {
  return !request.tool_result && request.tool_mode != ToolMode::kRequired &&
         request.tool_mode != ToolMode::kNamed;
}

std::vector<GeneratedChoice> Generate(const GenerationRequest& request) {
  std::vector<GeneratedChoice> choices;
  bool fixed = FixedAnswerAllowed(request);
  for (int i = 0; i < std::max(request.n, 1); ++i) {
    auto index = static_cast<size_t>(i);
    const std::string* answer =
        fixed && index < request.answers.size() ? &request.answers[index] : nullptr;
    choices.push_back(GenerateChoice(request, Mix(request.seed, index), answer));
  }
  return choices;
}

}  // namespace sy::emulator
