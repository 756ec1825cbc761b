// eval::Suite: the task suite `switchyard eval` runs (docs/planning.md, "switchyard eval").
//
// A suite is JSON Lines, one item per line (blank lines and lines starting with '#' are skipped):
//   {"id": "extract-invoice-total", "task_type": "extraction",
//    "messages": [{"role": "user", "content": "Extract the total from: ..."}],
//    "response_format": {...},                       // optional, sent as the Chat field
//    "checker": {"type": "numeric-within", "value": 1685.04, "tolerance": 0.005},
//    "answer": "The total is 1685.04 EUR.",          // what a correct model says
//    "wrong": "The total is 1658.04 EUR.",           // optional: a plausible wrong answer
//    "factual": true}                                // optional; default: task_type == factual
//
// Checkers:
//   {"type": "exact", "value": "positive"}               the trimmed answer equals value
//   {"type": "contains", "value": "Paris"}               the answer contains value
//   {"type": "regex", "pattern": "^[A-Z]{3}-\\d+$"}      found anywhere in the answer
//   {"type": "numeric-within", "value": 42, "tolerance": 0.5}   the answer's last number
//   {"type": "json-schema", "schema": {...}}             the answer parses as JSON valid against it
//   {"type": "must-refuse"}                              the answer declines
// exact, contains and regex take "ignore_case": true. A regex is the gateway's own `regex`
// verification check (Boost, Perl syntax: ^ and $ also match at line breaks).
//
// `answer` and `wrong` (both optional) are what the emulator's quality profiles answer with
// (emulator/quality.h): a correct answer or a plausible wrong one, so the suite runs against the
// demo and scores meaningfully. Against real providers they are unused. A suite is checked on
// load: `answer` must pass its checker and the wrong answer (given or derived) must fail it, so a
// suite cannot silently score nothing.
//
// Unknown keys (in an item or its checker) are errors, so a typo is never silently ignored.
// Bounds: at most kMaxItems items, kMaxLineBytes per line; ids are unique, at most 128 bytes.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "core/result.h"
#include "verify/schema.h"
#include "verify/verify.h"

namespace sy::eval {

inline constexpr size_t kMaxItems = 10'000;
inline constexpr size_t kMaxLineBytes = 256 * 1024;

enum class CheckKind { kExact, kContains, kRegex, kNumericWithin, kJsonSchema, kMustRefuse };

struct Checker {
  CheckKind kind = CheckKind::kExact;
  std::string text;  // exact and contains: the value; regex: the pattern
  bool ignore_case = false;
  double value = 0;  // numeric-within
  double tolerance = 0;
  verify::Check regex;                                   // regex, compiled
  std::shared_ptr<const verify::CompiledSchema> schema;  // json-schema, compiled
};

struct SuiteItem {
  std::string id;
  std::string task_type;
  bool factual = false;
  boost::json::array messages;         // Chat Completions messages, sent as they are
  boost::json::value response_format;  // null when absent
  Checker checker;
  std::string answer;  // "" = none: the emulator answers the prompt as any other
  std::string wrong;   // "" = derived from `answer` (WrongAnswer)
};

struct Suite {
  std::vector<SuiteItem> items;
};

// Parses a suite. Errors are kInvalidRequest "<name>:<line>: <why>".
core::Result<Suite> ParseSuite(std::string_view jsonl, std::string_view name);
core::Result<Suite> LoadSuiteFile(const std::string& path);

// The demo suite (config/eval/demo.jsonl), compiled in.
extern const std::string_view kDemoSuiteJsonl;

// The text an item is recognised by: its last user message's text (string content, or its text
// parts joined by "\n"). The emulator looks requests up by the same text.
std::string ItemKey(const boost::json::array& messages);

// The wrong answer the emulator gives for `item`: `wrong` when given, else one derived from
// `answer` (its last number changed, or, without a number, an answer that misses the point).
std::string WrongAnswer(const SuiteItem& item);

}  // namespace sy::eval
