// Quality profiles: how often each emulated model answers a task-suite item correctly, so that
// `switchyard eval` (eval/suite.h) scores the demo meaningfully against the emulator.
//
// When a request's last user message is a suite item's prompt (eval::ItemKey) and no tool call is
// made (completion.h: FixedAnswerAllowed), the emulator answers with the item's `answer` or its
// wrong answer (eval::WrongAnswer) instead of generated prose. Which one is a pure draw,
// AnswersCorrectly, with p = the model's Quality for the item's task type; the draw depends on the
// emulator's seed (Options::seed), the item id, the model name as the request spells it, and how
// many times this emulator already answered that item for that model (State counts; DELETE
// /_emulator/eval resets the counts). So repeated attempts are independent draws, and a fresh
// emulator with the same seed answers a run with the same results.
//
// The built-in table (BuiltinQuality) is a SIMULATION for the demo, not a measurement: see
// quality.cpp. Operators override it per model in the profile file or the control API
// (profiles.h: `quality: {default: 0.9, math: 0.7}`).
//
// Thread-safety: plain values and pure functions; a SuiteIndex is immutable once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.h"
#include "eval/suite.h"

namespace sy::emulator {

// The probability a model without a quality profile answers correctly.
inline constexpr double kUnknownModelQuality = 0.8;

// A model's probability of answering correctly: `default_p`, or the task type's own figure.
struct Quality {
  double default_p = kUnknownModelQuality;
  std::map<std::string, double, std::less<>> by_task{};  // task_type -> probability in [0, 1]

  double For(std::string_view task_type) const;
  bool operator==(const Quality&) const = default;
};

// The demo table's entry for `model` (a catalog id such as "claude-opus-4.7"), nullopt for a
// model the table does not list.
std::optional<Quality> BuiltinQuality(std::string_view model);

// Reads a quality map {"default": p, "<task_type>": p, ...} over `base`: the task-type figures
// replace base's whole per-task map (what is written is what applies), and "default", when
// given, replaces base.default_p. Fails with kInvalidRequest when `value` is not an object, a
// key is empty, or a value is not a number in [0, 1]; the message starts with the offending key
// ("math: must be a number in [0, 1]"), so a caller can prefix the path ("quality.").
core::Result<Quality> QualityFromJson(const boost::json::value& value, const Quality& base);
// {"default": p, "<task_type>": p, ...}
boost::json::object QualityToJson(const Quality& quality);

// The pure draw: whether a model of quality `p` answers item `item_id` correctly on its n-th
// attempt (n counts from 0) under emulator seed `seed`:
//   u = Rng(Mix(Mix(Mix(Fnv1a(item_id), Fnv1a(model)), seed), n)).Uniform(); correct iff u < p.
// So p <= 0 never and p >= 1 always answers correctly.
bool AnswersCorrectly(double p, uint64_t seed, std::string_view item_id, std::string_view model,
                      uint64_t n);

// What the emulator needs of one suite item.
struct SuiteAnswer {
  std::string id;
  std::string task_type;
  std::string answer;  // correct
  std::string wrong;   // eval::WrongAnswer(item)
};

// Suite items by prompt text (eval::ItemKey of their messages). When two items share a prompt,
// the first one in the suite answers.
class SuiteIndex {
 public:
  SuiteIndex() = default;  // empty: no prompt is a suite item
  explicit SuiteIndex(const eval::Suite& suite);

  // The item whose prompt is `key`, or nullptr. The pointer lives as long as the index.
  const SuiteAnswer* Find(std::string_view key) const;
  size_t size() const { return items_.size(); }

 private:
  std::map<std::string, SuiteAnswer, std::less<>> items_;
};

}  // namespace sy::emulator
