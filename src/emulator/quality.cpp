#include "emulator/quality.h"

#include <utility>

#include <boost/json.hpp>

#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

double Quality::For(std::string_view task_type) const {
  auto it = by_task.find(task_type);
  return it == by_task.end() ? default_p : it->second;
}

std::optional<Quality> BuiltinQuality(std::string_view model) {
  // SIMULATION, not measurements: the demo's emulated models answer suite items correctly with
  // these probabilities, so that `switchyard eval` against the demo shows differences between
  // models. Only the `factual` figures of four models derive from published numbers: 1 - 0.3 x
  // the AA-Omniscience hallucination rate DESIGN.md cites (deepseek-v4-flash 0.96 -> 0.712,
  // deepseek-v4-pro 0.94 -> 0.718, gpt-5.5 0.86 -> 0.742, claude-opus-4.7 0.36 -> 0.892). Every
  // other figure is an illustrative number ordered by tier (frontier > standard > economy), not
  // a benchmark result; do not quote them as model quality.
  // One row per figure, keyed as the profile file's quality map is ("default" or a task type).
  struct Row {
    std::string_view model;
    std::string_view key;
    double p;
  };
  static constexpr Row kTable[] = {
      {"gpt-5.5", "default", 0.95},
      {"gpt-5.5", "math", 0.96},
      {"gpt-5.5", "reasoning", 0.94},
      {"gpt-5.5", "code", 0.93},
      {"gpt-5.5", "factual", 0.742},
      {"gpt-5.5-pro", "default", 0.97},
      {"gpt-5.5-pro", "factual", 0.80},
      {"claude-opus-4.7", "default", 0.95},
      {"claude-opus-4.7", "code", 0.96},
      {"claude-opus-4.7", "factual", 0.892},
      {"claude-opus-4.8", "default", 0.95},
      {"claude-opus-4.8", "factual", 0.89},
      {"claude-haiku-4.5", "default", 0.86},
      {"claude-haiku-4.5", "math", 0.75},
      {"claude-haiku-4.5", "reasoning", 0.72},
      {"claude-haiku-4.5", "factual", 0.75},
      {"gemini-3.1-pro", "default", 0.94},
      {"gemini-3.1-pro", "factual", 0.80},
      {"grok-4", "default", 0.92},
      {"grok-4", "factual", 0.78},
      {"grok-4.1-fast", "default", 0.84},
      {"grok-4.1-fast", "math", 0.72},
      {"grok-4.1-fast", "reasoning", 0.68},
      {"grok-4.1-fast", "factual", 0.70},
      {"mistral-large-3", "default", 0.87},
      {"mistral-large-3", "factual", 0.76},
      {"mistral-small-4", "default", 0.82},
      {"mistral-small-4", "math", 0.60},
      {"mistral-small-4", "reasoning", 0.60},
      {"mistral-small-4", "code", 0.70},
      {"mistral-small-4", "factual", 0.70},
      {"deepseek-v4-pro", "default", 0.91},
      {"deepseek-v4-pro", "math", 0.88},
      {"deepseek-v4-pro", "reasoning", 0.85},
      {"deepseek-v4-pro", "code", 0.89},
      {"deepseek-v4-pro", "factual", 0.718},
      {"deepseek-v4-flash", "default", 0.86},
      {"deepseek-v4-flash", "extraction", 0.93},
      {"deepseek-v4-flash", "classification", 0.93},
      {"deepseek-v4-flash", "summarization", 0.90},
      {"deepseek-v4-flash", "rewriting", 0.90},
      {"deepseek-v4-flash", "math", 0.72},
      {"deepseek-v4-flash", "reasoning", 0.66},
      {"deepseek-v4-flash", "code", 0.80},
      {"deepseek-v4-flash", "agentic", 0.75},
      {"deepseek-v4-flash", "grounded_qa", 0.80},
      {"deepseek-v4-flash", "factual", 0.712},
      {"kimi-k2.6", "default", 0.87},
      {"kimi-k2.6", "code", 0.91},
      {"kimi-k2.6", "agentic", 0.90},
      {"kimi-k2.6", "math", 0.80},
      {"kimi-k2.6", "factual", 0.72},
      {"llama-4-maverick", "default", 0.80},
      {"llama-4-maverick", "math", 0.62},
      {"llama-4-maverick", "reasoning", 0.60},
      {"llama-4-maverick", "factual", 0.70},
  };
  std::optional<Quality> quality;
  for (const Row& row : kTable) {
    if (row.model != model) continue;
    if (!quality) quality.emplace();
    if (row.key == "default") {
      quality->default_p = row.p;
    } else {
      quality->by_task.emplace(row.key, row.p);
    }
  }
  return quality;
}

core::Result<Quality> QualityFromJson(const json::value& value, const Quality& base) {
  const json::object* fields = value.if_object();
  if (fields == nullptr) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "must be an object of task type to probability, e.g. "
                           "{\"default\": 0.9, \"math\": 0.7}");
  }
  Quality out;
  out.default_p = base.default_p;
  for (const auto& [key, p] : *fields) {
    if (key.empty()) {
      return core::MakeError(core::Errc::kInvalidRequest, ": task type must not be empty");
    }
    double x = p.is_number() ? p.to_number<double>() : -1;
    if (!(x >= 0 && x <= 1)) {  // also rejects NaN
      return core::MakeError(core::Errc::kInvalidRequest,
                             std::string(key) + ": must be a number in [0, 1]");
    }
    if (key == "default") {
      out.default_p = x;
    } else {
      out.by_task[std::string(key)] = x;
    }
  }
  return out;
}

json::object QualityToJson(const Quality& quality) {
  json::object out{{"default", quality.default_p}};
  for (const auto& [task, p] : quality.by_task) out[task] = p;
  return out;
}

bool AnswersCorrectly(double p, uint64_t seed, std::string_view item_id, std::string_view model,
                      uint64_t n) {
  double u = Rng(Mix(Mix(Mix(Fnv1a(item_id), Fnv1a(model)), seed), n)).Uniform();
  return u < p;
}

SuiteIndex::SuiteIndex(const eval::Suite& suite) {
  for (const eval::SuiteItem& item : suite.items) {
    std::string key = eval::ItemKey(item.messages);
    if (items_.contains(key)) continue;  // the first item with this prompt answers
    items_.emplace(std::move(key),
                   SuiteAnswer{item.id, item.task_type, item.answer, eval::WrongAnswer(item)});
  }
}

const SuiteAnswer* SuiteIndex::Find(std::string_view key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}

}  // namespace sy::emulator
