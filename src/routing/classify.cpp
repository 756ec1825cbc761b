// routing::Classify: a learned model (model.cpp) over hashed words and the evidence of a
// transparent weighted-cue scorer:
//
// 1. Scan (scan.cpp, GatherEvidence): cue words and phrases where instructions live, weighed by
//    who wrote them, plus the shape of the text (code, quotes, markers, questions, notation).
// 2. Decide (DecideType): structural evidence is added (tools, output format, context, code,
//    math notation, conversation depth; see the constants below), then the highest score wins,
//    ties going to the earlier type in kTieOrder; chat when nothing reaches kMinScore.
// 3. Learn (model.cpp): the cue scores, the structure and hashed words of the prompt feed a
//    softmax regression whose weights sy_routing_train fits on the train files; it decides.
#include <algorithm>
#include <array>

#include "routing/classify_internal.h"
#include "routing/features.h"
#include "routing/lexicon.h"
#include "routing/model_internal.h"

namespace sy::routing {
namespace detail {
namespace {

using Type = TaskType;

// --- Structural evidence, in cue units (a weight-5 cue in the instruction region scores 20).
constexpr int32_t kToolsOffered = 20;    // tools the model may call: it is expected to act
constexpr int32_t kToolRequired = 8;     // ... and must
constexpr int32_t kToolHistory = 20;     // tool calls or results already in the conversation
constexpr int32_t kJsonExtraction = 12;  // JSON or a forced tool: structured output
constexpr int32_t kJsonClassification = 4;
constexpr int32_t kContextQa = 4;        // supplied context leans to grounded QA...
constexpr int32_t kContextQuestion = 8;  // ... and a question about it even more
constexpr int32_t kCodePresent = 12;
constexpr int32_t kMathNotation = 8;           // "3x + 7 = 22", "x^2", LaTeX
constexpr int32_t kPerMathSymbol = 4;          // × ≥ % ..., up to three
constexpr int32_t kPerNumber = 2;              // numbers beyond the second, up to six
constexpr int32_t kPerEmoji = 6;               // chat, up to two
constexpr int32_t kPerIdentifier = 4;          // code, up to three
constexpr int32_t kDepthPerTurn = 2;           // chat, per user turn beyond the first (up to 4)
constexpr int32_t kMinScore = 8;               // below this the shape decides (end of DecideType)
constexpr size_t kShortQuestionBytes = 160;    // a short question without context: factual
constexpr size_t kLongPassageBytes = 800;      // a user text this long carries a passage
constexpr size_t kPassageBytes = 150;          // material supplied after an instruction
constexpr size_t kAttachedPassageBytes = 150;  // one part of a multi-part turn this long

// Equal scores go to the earlier type: structural and specific types before broad ones.
constexpr Type kTieOrder[] = {Type::kAgentic,    Type::kCode,           Type::kMath,
                              Type::kExtraction, Type::kClassification, Type::kSummarization,
                              Type::kRewriting,  Type::kGroundedQa,     Type::kReasoning,
                              Type::kCreative,   Type::kFactual,        Type::kChat};
static_assert(std::size(kTieOrder) == kTaskTypeCount);

void Add(Evidence& ev, Type type, int32_t points) {
  ev.scores[static_cast<size_t>(type)] += points;
}

// --- Expected output, by type (tokens; see docs/routing.md "Task classification").
int64_t ExpectedOutputTokens(Type type, size_t longest_user_text) {
  const auto supplied = static_cast<int64_t>(longest_user_text / 4);  // ~tokens of the passage
  switch (type) {
    case Type::kExtraction:
      return 250;
    case Type::kClassification:
      return 20;
    case Type::kSummarization:
      return std::clamp<int64_t>(supplied / 4, 100, 600);
    case Type::kRewriting:
      return std::clamp<int64_t>(supplied + supplied / 10, 50, 4000);
    case Type::kCode:
      return 1200;
    case Type::kMath:
      return 800;
    case Type::kReasoning:
      return 1000;
    case Type::kFactual:
      return 250;
    case Type::kGroundedQa:
      return 300;
    case Type::kCreative:
      return 700;
    case Type::kChat:
      return 200;
    case Type::kAgentic:
      return 300;
  }
  return 200;
}

int64_t PromptTokens(const core::Prompt& p) {
  int64_t tokens = 0;
  for (const auto& t : p.texts) tokens += EstimateTokens(t.text);
  if (p.body_bytes > p.text_bytes)
    tokens += static_cast<int64_t>((p.body_bytes - p.text_bytes) / 6);
  return tokens + int64_t{800} * p.images;
}

}  // namespace

bool HasContext(const core::Prompt& p, const Evidence& ev) {
  return p.documents > 0 || p.tool_results || ev.markers > 0 || ev.quote_lines >= 2 ||
         ev.triple_quotes >= 2 || ev.longest_user_text >= kLongPassageBytes ||
         ev.passage_bytes >= kPassageBytes ||
         (ev.longest_system_text >= kLongPassageBytes && ev.questions > 0) ||
         (ev.last_turn_texts >= 2 && ev.longest_user_text >= kAttachedPassageBytes);
}

TaskType DecideType(const core::Prompt& p, bool context, bool code, Evidence& ev) {
  const bool forced_tool = p.output == core::OutputFormat::kForcedTool;
  const bool acting = (p.tools_offered > 0 && !forced_tool) || p.tool_calls || p.tool_results;
  auto& agentic = ev.scores[static_cast<size_t>(Type::kAgentic)];
  if (!acting) agentic = 0;  // words alone ("book", "search") do not make a request agentic
  if (p.tools_offered > 0 && !forced_tool) {
    agentic += kToolsOffered + (p.tool_required ? kToolRequired : 0);
  }
  if (p.tool_calls || p.tool_results) agentic += kToolHistory;
  if (p.output != core::OutputFormat::kText) {
    Add(ev, Type::kExtraction, kJsonExtraction);
    Add(ev, Type::kClassification, kJsonClassification);
  }
  if (context) {
    Add(ev, Type::kGroundedQa, ev.questions > 0 ? kContextQa + kContextQuestion : kContextQa);
  }
  if (code) Add(ev, Type::kCode, kCodePresent);
  Add(ev, Type::kCode, kPerIdentifier * std::min(ev.identifiers, 3));
  const bool notation =
      (ev.equals > 0 && ev.digits >= 2) || ev.latex > 0 || (ev.carets > 0 && ev.digits > 0);
  if (!code) {
    if (notation) Add(ev, Type::kMath, kMathNotation);
    Add(ev, Type::kMath, kPerMathSymbol * std::min(ev.math_symbols, 3));
    if (!context) Add(ev, Type::kMath, kPerNumber * std::clamp(ev.numbers - 2, 0, 6));
  }
  Add(ev, Type::kChat, kPerEmoji * std::min(ev.emoji, 2));
  if (p.user_turns > 1) Add(ev, Type::kChat, kDepthPerTurn * std::min(p.user_turns - 1, 4));

  Type best = Type::kChat;
  int32_t best_score = kMinScore - 1;
  for (Type t : kTieOrder) {
    if (ev.scores[static_cast<size_t>(t)] > best_score) {
      best = t;
      best_score = ev.scores[static_cast<size_t>(t)];
    }
  }
  if (best_score >= kMinScore) return best;
  // Nothing asked for clearly: a question without context is factual when short, reasoning
  // when it sets out a longer problem; anything else is conversation.
  if (!code && !context &&
      (ev.numbers >= 3 || (ev.numbers >= 2 && (ev.math_symbols > 0 || notation)))) {
    return Type::kMath;  // a word problem: numbers and a question, no words for it
  }
  if (ev.questions > 0 && !context) {
    return ev.last_turn_bytes < kShortQuestionBytes ? Type::kFactual : Type::kReasoning;
  }
  return Type::kChat;
}

}  // namespace detail

Features Classify(const core::Prompt& prompt, std::optional<TaskType> stated) {
  Features f;
  f.max_output_tokens = prompt.max_output_tokens;
  f.choices = prompt.choices;
  f.tools = prompt.tools_offered > 0;
  f.tool_required = prompt.tool_required;
  f.tool_results = prompt.tool_results;
  f.json_output = prompt.output != core::OutputFormat::kText;
  f.json_schema = prompt.output == core::OutputFormat::kJsonSchema ||
                  prompt.output == core::OutputFormat::kForcedTool;
  f.images = prompt.images;
  f.depth = prompt.user_turns;
  f.prompt_tokens = detail::PromptTokens(prompt);

  detail::Evidence ev;
  detail::GatherEvidence(prompt, ev);
  f.code = ev.fences > 0 || ev.code_lines >= 3;
  f.context = detail::HasContext(prompt, ev);
  f.language = detail::DetectLanguage(ev);
  if (stated) {
    f.task_type = *stated;
    f.task_stated = true;
  } else {
    // The cue scorer's scores and decision are evidence for the learned model, which decides.
    const TaskType cue_type = detail::DecideType(prompt, f.context, f.code, ev);
    detail::FeatureVector x;
    detail::ExtractModelFeatures(prompt, ev, cue_type, f, detail::ModelConfigInUse(), x);
    f.task_type = detail::PredictType(prompt, x);
  }
  f.expected_output_tokens = detail::ExpectedOutputTokens(f.task_type, ev.longest_user_text);
  if (f.max_output_tokens > 0) {
    f.expected_output_tokens = std::min(f.expected_output_tokens, f.max_output_tokens);
  }
  return f;
}

}  // namespace sy::routing
