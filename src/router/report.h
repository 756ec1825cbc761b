// router report: `switchyard router eval`'s figures, per source and overall, for a router's scores
// beside RouteLLM's random router and a prompt-length router computed the same way
// (router/metrics.h), with the curve in dollars when prices are given; and their table and JSON.
//
// Overall pools every prompt, its outcomes normalised to [0, 1] (router/data.h), since a 1-10
// grade and a 0/1 correctness do not average otherwise; per source, outcomes are as in the file.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "router/metrics.h"

namespace sy::router {

struct ScoredPrompt {
  std::string source{};
  double score = 0;   // the router's
  int64_t bytes = 0;  // the prompt's length: the length router's score, and tokens ~ bytes / 4
  double strong = 0;  // outcomes as in the file
  double weak = 0;
  double strong_normalized = 0;  // in [0, 1]
  double weak_normalized = 0;
};

// Catalog prices, USD per million tokens, and the output tokens assumed per request.
struct Prices {
  core::PricePerMTokens strong_input;
  core::PricePerMTokens strong_output;
  core::PricePerMTokens weak_input;
  core::PricePerMTokens weak_output;
  int64_t output_tokens = 0;
};

struct RouterFigures {
  RouterMetrics ours;
  RouterMetrics random;
  RouterMetrics length;
  // Per point of ours.curve: the cost of 1,000 such requests routed at that point (prompt tokens
  // are ceil(bytes / 4)), truncated to the pico-dollar. Empty without prices.
  std::vector<core::Money> cost_per_1k;
};

struct EvalReport {
  std::string split{};
  int64_t n = 0;
  RouterFigures overall;
  std::vector<std::pair<std::string, RouterFigures>> sources;  // by source name
  bool priced = false;
};

// The figures of `prompts`; `seed` drives the random router. With prices, fails with
// kInvalidRequest ("cost overflows: ...", naming the request or the curve point) when a request's
// cost or the cost of 1,000 passes the range of Money (about 9.2 million USD): the curve's dollars
// are exact or absent, never wrapped. Without prices it always succeeds.
core::Result<EvalReport> BuildReport(std::span<const ScoredPrompt> prompts, std::string split,
                                     uint64_t seed, const std::optional<Prices>& prices);

// JSON: the overall figures at the top level, per source under "sources", each with "apgr",
// "cpt50", "cpt80", "strong_share_at_95pct_quality" (fractions), "n", "strong_performance",
// "weak_performance", "curve" and "baselines": {"random": {...}, "length": {...}}. A figure that
// is undefined (strong and weak perform the same) is null.
std::string FormatReportJson(const EvalReport& report);

// A table for people: per source and overall, the three routers' figures, then our curve.
std::string FormatReportTable(const EvalReport& report);

// Parses "IN/OUT" USD per million tokens ("10/30", "0.6/0.6"). Fails with kInvalidRequest.
// Range: each price at most 9223372036854.775807 (PricePerMTokens); what prices and output
// tokens a report can cost is CheckOutputPrice's.
core::Result<std::pair<core::PricePerMTokens, core::PricePerMTokens>> ParsePricePair(
    std::string_view text);

// Whether 1,000 requests of `output_tokens` output tokens each at `output` USD per million tokens
// fit the range of Money, so a curve can be costed at all; fails with kInvalidRequest saying the
// largest price that fits ("an output price of 20000 USD per million tokens at 500 output tokens
// per request costs more than 9223372.036854775807 USD per 1,000 requests; at most 18446.744073
// fits"). Longer prompts can still overflow: BuildReport says which.
core::Status CheckOutputPrice(core::PricePerMTokens output, int64_t output_tokens);

}  // namespace sy::router
