// `switchyard eval`: cost per successful task, measured, per policy (docs/planning.md).
//
//   switchyard eval --policies A,B,... [--suite FILE] [--gateway URL | --config FILE]
//                   [--dialect openai|anthropic|responses] [--attempts K] [--concurrency N]
//                   [--seed N] [--format table|json|markdown]
//                   [--svg FILE] [--min-success RATE] [--api-key-env VAR] [--timeout-ms MS]
//
// Runs every item of the suite (the demo suite without --suite), K times, through a gateway
// under each policy in turn (a policy is what the request's "model" says: a routing profile such
// as `auto`, an alias or a model), in the dialect the application speaks (--dialect; the items'
// Chat messages are translated by the gateway's own translators), and reports per policy and
// task type: success rate, cost per
// successful task, p50/p95 latency, the factual failure rate and P(success within k attempts)
// (eval/report.h has the definitions). The verdict names the policy with the lowest cost per
// successful task among those whose success rate reaches --min-success (default 0: all).
//
// Which gateway:
// - --gateway URL: one already running (its key, if it wants one, from the environment variable
//   --api-key-env names).
// - --config FILE: `switchyard serve --config FILE` started for the run on a free loopback port,
//   stopped after it.
// - neither: `switchyard demo` started for the run (emulated providers, a ledger in a temporary
//   directory), its emulator answering the suite's items with the simulated quality profiles
//   (emulator/quality.h) from --seed. Each policy starts from the same emulator state, so every
//   policy sees the same draws for the same item and model.
//
// Exit status: 0 when the run completed (whatever the success rates); 2 on bad arguments, an
// invalid suite, a gateway that did not start, or a file that cannot be written.
//
// Thread-safety: run from main only.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace sy::app {

struct EvalArgs {
  std::string policies{};     // comma-separated
  std::string suite_path{};   // "" = the demo suite
  std::string gateway{};      // URL of a running gateway
  std::string config_path{};  // start `serve` on it
  int attempts = 1;
  int concurrency = 8;
  uint64_t seed = 0;
  std::string dialect = "openai";  // openai, anthropic or responses
  std::string format = "table";
  std::string svg_path{};
  double min_success = 0;
  std::string api_key_env{};
  int64_t timeout_ms = 120'000;
  bool progress = false;  // draw a progress bar on `err` (the CLI: when stderr is a terminal)
};

// Registers `eval` on `app`. REQUIRES: `app` outlives the parse.
void AddEvalCommand(CLI::App& app);

// The command body, for tests: returns the exit status.
int RunEval(const EvalArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
