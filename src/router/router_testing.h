// Test helpers for the router module: a small synthetic training set with planted signals, and a
// model trained on it. Deterministic.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "router/router.h"
#include "router/train.h"

namespace sy::router::testing {

// 400 examples. Half are multiple-choice questions on two topics: "enzyme" questions (topic
// chemistry) the strong model gets right and the weak one mostly wrong, "treaty" questions
// (topic history) both get right. Half are free-form word problems where the weak model fails
// the long ones only.
inline std::vector<Example> SyntheticExamples() {
  std::vector<Example> out;
  uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  for (int i = 0; i < 200; ++i) {
    const bool chemistry = i % 2 == 0;
    Example e;
    e.id = "mc/" + std::to_string(i);
    e.source = "exam";
    e.topic = chemistry ? "chemistry" : "history";
    e.text =
        std::string(chemistry ? "Which enzyme catalyses reaction " : "Which treaty ended war ") +
        std::to_string(next() % 1000) + "?\nA. one\nB. two\nC. three\nD. four\nAnswer:";
    e.strong = 1;
    e.weak = chemistry ? (next() % 5 == 0 ? 1 : 0) : 1;
    out.push_back(e);
  }
  for (int i = 0; i < 200; ++i) {
    const int items = 1 + static_cast<int>(next() % 12);
    Example e;
    e.id = "free/" + std::to_string(i);
    e.source = "words";
    e.text = "Sam buys";
    for (int k = 0; k < items; ++k) e.text += ", then " + std::to_string(next() % 90) + " apples";
    e.text += ". How many apples does Sam have?";
    e.strong = 1;
    e.weak = items > 6 ? 0 : 1;
    out.push_back(e);
  }
  return out;
}

// The bytes of a model trained on SyntheticExamples() with `seed`.
inline std::string SyntheticModelBytes(uint64_t seed = 1) {
  TrainOptions options;
  options.seed = seed;
  options.command =
      "switchyard router train --data synthetic.jsonl --strong s --weak w --out m "
      "--seed " +
      std::to_string(seed);
  options.data_sha256 = std::string(64, '0');
  options.strong = "s";
  options.weak = "w";
  auto result = Train(SyntheticExamples(), options);
  return result ? result->model_bytes : std::string();
}

}  // namespace sy::router::testing
