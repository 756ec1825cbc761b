// sy::emulator::Emulator: a stand-in for the upstream LLM providers, for tests, demos and
// benchmarks. It speaks OpenAI Chat Completions (POST <any prefix>/chat/completions), OpenAI
// Responses (POST <any prefix>/responses) and Anthropic Messages (POST <any prefix>/messages,
// .../messages/count_tokens) faithfully enough for the official SDKs,
// answers deterministically (the same request gets the same answer and token counts), paces
// streams by per-model latency profiles, emulates prompt caching, and fails on command.
// Prompts of a task suite (`switchyard eval`) get the item's correct or wrong answer, drawn by
// per-model, per-task-type quality profiles (quality.h), deterministic by seed.
//
// Control API (JSON): POST/GET/DELETE /_emulator/faults, GET/DELETE /_emulator/requests,
// PUT/GET /_emulator/profiles/{model}, DELETE /_emulator/cache, GET/DELETE /_emulator/eval
// (DELETE resets the suite-answer counts, so an eval run can be repeated from the same state),
// GET /_emulator/health.
// See control_api.h, faults.h (fault semantics), profiles.h (latency and quality profiles and
// the config file format), quality.h (suite answers), prompt_tokens.h (how tokens are counted)
// and completion.h (what is generated).
//
// It shares no wire-format code with providers/: it is written from the vendors' public API
// references, so that one misreading cannot hide in both.
//
// Thread-safety: Start, Stop and address may be called from any one controlling thread; the
// server runs on its own threads. Ownership: the caller owns the Emulator; destroying it stops
// it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace sy::emulator {

struct Options {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 = pick a free one
  // Optional latency-profile file, YAML or JSON (format in profiles.h):
  //   default: {ttft_ms: 50, tokens_per_s: 500}
  //   profiles: {gpt-5.5: {ttft_ms: 120, tokens_per_s: 400, reasoning: true,
  //                        quality: {default: 0.95, math: 0.9}}}
  std::string config_file;
  int threads = 1;
  // The task suite whose items the emulator answers by quality (eval/suite.h format); "" = the
  // compiled-in demo suite (eval::kDemoSuiteJsonl).
  std::string suite_file{};
  // The seed of the suite-answer draws (quality.h: AnswersCorrectly).
  uint64_t seed = 0;
};

class Emulator {
 public:
  // Loads the config file and the suite, binds, starts serving on its own threads, and returns
  // once the listener accepts connections. Fails with kInvalidRequest for a bad config file,
  // suite file or listen address and kInternal when it cannot listen.
  static core::Result<std::unique_ptr<Emulator>> Start(const Options& options);
  ~Emulator();  // stops

  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // The bound address, "127.0.0.1:41234" ("[::1]:41234" for IPv6).
  std::string address() const;
  // Idempotent: closes the listener and every open connection (held timeouts included),
  // cancels pending delays, and joins the threads.
  void Stop();

  struct Impl;

 private:
  explicit Emulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::emulator
