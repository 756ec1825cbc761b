// `switchyard router train|eval`: trains the learned strong-or-weak router (router/train.h) on a
// routing-outcomes file (router/data.h) and measures a model with RouteLLM's metrics
// (router/metrics.h, router/report.h).
//
//   switchyard router train --data FILE --strong MODEL --weak MODEL --out FILE [--seed N]
//   switchyard router verify --model FILE [--base-dir DIR]
//   switchyard router eval --model FILE --data FILE [--split validation|train|all]
//                          [--contaminated keep|drop] [--format table|json] [--seed N]
//                          [--strong-price IN/OUT --weak-price IN/OUT [--output-tokens N]]
//
// Both classify each prompt's task type with routing::Classify, as the gateway will before it
// scores a request. `train` writes the model file and prints the examples, the time, the
// cross-validated candidates and the chosen ones' figures on the validation split. The file
// records the training command in a canonical form (RouterTrainCommandLine: every option, in
// a fixed order, values as typed), so the same command on the same data rebuilds it bit for bit
// wherever it was typed from. `eval` prints, per source and overall, the learned router's
// curve, APGR, CPT(50%), CPT(80%) and the strong share needed for 95% of the strong model's
// quality, beside a random and a prompt-length router; with prices (USD per million tokens,
// exact decimals) also the cost of 1,000 requests at each point of the curve.
//
// `verify` retrains with the command stored in the model file (its paths from --base-dir, "."
// by default) and compares the bytes: exit 1 when they differ (for an operator's own models; the
// test command checks the shipped one with RouterCommandTest.ShippedModelIsReproducible).
//
// Exit status: 0 on success; 2 when a file cannot be read or written, the data or the model is
// malformed, or a price is not a price (the reason on stderr). Bad argument syntax is a CLI11
// parse error (its own exit codes).
//
// Thread-safety: run from main only.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "core/result.h"

namespace sy::app {

struct RouterTrainArgs {
  std::string data{};
  std::string strong{};
  std::string weak{};
  std::string out{};
  uint64_t seed = 1;
};

struct RouterEvalArgs {
  std::string model{};
  std::string data{};
  std::string split = "validation";   // validation | train | all
  std::string contaminated = "keep";  // keep | drop (RouteLLM drops them before reporting)
  std::string format = "table";
  uint64_t seed = 1;           // the random router's
  std::string strong_price{};  // "IN/OUT" USD per million tokens; "" = no dollars
  std::string weak_price{};
  int64_t output_tokens = 0;
};

struct RouterVerifyArgs {
  std::string model{};
  std::string base_dir = ".";
};

// Registers `router train`, `router verify` and `router eval` on `app`. REQUIRES: `app` outlives
// the parse.
void AddRouterCommand(CLI::App& app);

// The canonical command line of `args`, as stored in the model file:
// "switchyard router train --data D --strong S --weak W --out O --seed N", a value that holds a
// space, a quote or a backslash single-quoted (as a POSIX shell reads it).
std::string RouterTrainCommandLine(const RouterTrainArgs& args);

// Parses a command line RouterTrainCommandLine wrote. Fails with kInvalidRequest otherwise.
core::Result<RouterTrainArgs> ParseRouterTrainCommandLine(std::string_view command);

// Trains as `args` say and returns the model file's bytes, without writing --out; a relative
// --data is read from `base_dir` ("" = the working directory). Writes the summary to `log`.
// Fails (kInvalidRequest, the reason in the message) when the data cannot be read or used.
core::Result<std::string> BuildRouterModel(const RouterTrainArgs& args, const std::string& base_dir,
                                           std::ostream& log);

// The command bodies, for tests: write to `out` / `err`, return the exit status (0 or 2).
int RunRouterTrain(const RouterTrainArgs& args, std::ostream& out, std::ostream& err);
int RunRouterEval(const RouterEvalArgs& args, std::ostream& out, std::ostream& err);
int RunRouterVerify(const RouterVerifyArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
