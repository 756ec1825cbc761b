// router data: reads a routing-outcomes file, one JSON object per line, each a prompt with the
// outcomes of several models on it (/work/shared/data/routing/README.md's format):
//
//   {"id": "...", "source": "routellm-mmlu", "prompt": "...",
//    "outcomes": {"<model>": 1, "<other model>": 0},
//    "meta": {"score_type": "correct_0_1", "subject": "...", "contaminated": false}}
//
// Outcomes are normalised to [0, 1] by meta.score_type: "correct_0_1" as is, "gpt4_judge_1to10..."
// (a 1-10 grade) as (grade - 1) / 9; without a score_type an outcome must already be in [0, 1].
// The topic, which training smooths labels over (train.h), is meta.subject or meta.category.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sy::router {

struct LabeledPrompt {
  std::string id{};
  std::string source{};
  std::string topic{};
  std::string prompt{};
  double strong = 0;  // the outcomes as in the file
  double weak = 0;
  double strong_normalized = 0;  // in [0, 1]
  double weak_normalized = 0;
  bool contaminated = false;  // meta.contaminated
};

// Parses `jsonl`, reading the outcomes of models `strong` and `weak`. Blank lines are skipped.
// Fails with kInvalidRequest naming the line (1-based) and what is wrong: not JSON, a missing or
// mistyped field, no outcome for one of the two models, an unknown score_type or an outcome
// outside its scale.
core::Result<std::vector<LabeledPrompt>> ParseRoutingData(std::string_view jsonl,
                                                          std::string_view strong,
                                                          std::string_view weak);

}  // namespace sy::router
