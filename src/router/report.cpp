#include "router/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include <boost/json.hpp>

#include "core/int128.h"
#include "core/money_checked.h"

namespace sy::router {
namespace {

namespace json = boost::json;

struct Columns {
  std::vector<double> ours;
  std::vector<double> length;
  std::vector<double> strong;
  std::vector<double> weak;
};

using core::Int128;

std::string Largest() { return core::kLargestMoney.ToString() + " USD"; }

core::Result<core::Money> CostOf(const ScoredPrompt& p, bool strong, const Prices& prices) {
  const int64_t input = p.bytes / 4 + (p.bytes % 4 != 0 ? 1 : 0);  // ceil, without overflow
  const auto& in = strong ? prices.strong_input : prices.weak_input;
  const auto& out = strong ? prices.strong_output : prices.weak_output;
  const auto in_cost = core::CheckedCostOf(in, input);
  const auto out_cost = core::CheckedCostOf(out, prices.output_tokens);
  std::optional<core::Money> cost;
  if (in_cost && out_cost) cost = core::CheckedAdd(*in_cost, *out_cost);
  if (cost) return *cost;
  return core::MakeError(core::Errc::kInvalidRequest,
                         "cost overflows: a request of " + std::to_string(input) +
                             " input tokens (a prompt of " + std::to_string(p.bytes) +
                             " bytes) and " + std::to_string(prices.output_tokens) +
                             " output tokens at the " + (strong ? "strong" : "weak") +
                             " model's price of " + in.ToString() + "/" + out.ToString() +
                             " USD per million tokens costs more than the largest amount a "
                             "report holds (" +
                             Largest() + ")");
}

// The cost of 1,000 requests like `prompts`, routed as `point` routes them; truncated exactly.
// Summed in 128 bits: each cost is at most INT64_MAX pico-dollars, so n of them times 1,000 stays
// below 2^127 for any n below 2^53 prompts (more than memory holds). Fails when a request's cost,
// or the cost of 1,000, passes the range of Money.
core::Result<core::Money> CostPer1k(std::span<const ScoredPrompt* const> prompts,
                                    const CurvePoint& point, const Prices& prices) {
  Int128 total = 0;
  for (const ScoredPrompt* p : prompts) {
    auto cost = CostOf(*p, point.Strong(p->score), prices);
    if (!cost) return std::move(cost).error();
    total += cost->pico();
  }
  const Int128 per_1k = total * 1000 / static_cast<Int128>(prompts.size());
  if (per_1k > std::numeric_limits<int64_t>::max()) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", 100 * point.strong_share);
    return core::MakeError(core::Errc::kInvalidRequest,
                           "cost overflows: 1,000 requests routed at a strong share of " +
                               std::string(share) +
                               " cost more than the largest amount a report "
                               "holds (" +
                               Largest() + "); give lower prices or --output-tokens");
  }
  return core::Money::FromPico(static_cast<int64_t>(per_1k));
}

core::Result<RouterFigures> Figures(std::span<const ScoredPrompt* const> prompts, bool normalized,
                                    uint64_t seed, const std::optional<Prices>& prices) {
  Columns c;
  for (const ScoredPrompt* p : prompts) {
    c.ours.push_back(p->score);
    c.length.push_back(static_cast<double>(p->bytes));
    c.strong.push_back(normalized ? p->strong_normalized : p->strong);
    c.weak.push_back(normalized ? p->weak_normalized : p->weak);
  }
  RouterFigures f;
  f.ours = Evaluate(c.ours, c.strong, c.weak);
  f.random = EvaluateRandom(c.strong, c.weak, seed);
  f.length = Evaluate(c.length, c.strong, c.weak);
  if (prices && !prompts.empty()) {
    for (const CurvePoint& point : f.ours.curve) {
      auto cost = CostPer1k(prompts, point, *prices);
      if (!cost) return std::move(cost).error();
      f.cost_per_1k.push_back(*cost);
    }
  }
  return f;
}

json::value Number(double x) { return std::isfinite(x) ? json::value(x) : json::value(nullptr); }

json::object MetricsJson(const RouterMetrics& m) {
  json::object o;
  o["n"] = m.n;
  o["apgr"] = Number(m.apgr);
  o["cpt50"] = Number(m.cpt50);
  o["cpt80"] = Number(m.cpt80);
  o["strong_share_at_95pct_quality"] = Number(m.strong_share_at_95pct_quality);
  o["strong_performance"] = Number(m.strong_performance);
  o["weak_performance"] = Number(m.weak_performance);
  return o;
}

json::object FiguresJson(const RouterFigures& f) {
  json::object o = MetricsJson(f.ours);
  json::array curve;
  for (size_t i = 0; i < f.ours.curve.size(); ++i) {
    const CurvePoint& p = f.ours.curve[i];
    json::object point{{"threshold", Number(p.threshold)},
                       {"strong_share", p.strong_share},
                       {"performance", p.performance}};
    if (i < f.cost_per_1k.size()) point["usd_per_1k_requests"] = f.cost_per_1k[i].ToString();
    curve.push_back(std::move(point));
  }
  o["curve"] = std::move(curve);
  o["baselines"] =
      json::object{{"random", MetricsJson(f.random)}, {"length", MetricsJson(f.length)}};
  return o;
}

std::string Fixed(double x, int decimals) {
  if (!std::isfinite(x)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

std::string Percent(double x) { return std::isfinite(x) ? Fixed(100 * x, 1) + "%" : "-"; }

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

void TableOf(const std::string& title, const RouterFigures& f, std::ostringstream& out) {
  out << title << " (n=" << f.ours.n << "; strong " << Fixed(f.ours.strong_performance, 3)
      << ", weak " << Fixed(f.ours.weak_performance, 3) << ")\n";
  out << "  router    APGR    CPT(50%)  CPT(80%)  strong share at 95% quality\n";
  for (const auto& [name, m] : {std::pair<const char*, const RouterMetrics*>{"learned", &f.ours},
                                {"random", &f.random},
                                {"length", &f.length}}) {
    out << "  " << Pad(name, 10) << Pad(Fixed(m->apgr, 3), 8) << Pad(Percent(m->cpt50), 10)
        << Pad(Percent(m->cpt80), 10) << Percent(m->strong_share_at_95pct_quality) << "\n";
  }
  out << "  learned curve: strong share, performance"
      << (f.cost_per_1k.empty() ? "" : ", USD per 1k requests") << "\n";
  for (size_t i = 0; i < f.ours.curve.size(); ++i) {
    const CurvePoint& p = f.ours.curve[i];
    out << "    " << Pad(Percent(p.strong_share), 8) << Fixed(p.performance, 4);
    if (i < f.cost_per_1k.size()) out << "  " << f.cost_per_1k[i].ToCents();
    out << "\n";
  }
}

}  // namespace

core::Result<EvalReport> BuildReport(std::span<const ScoredPrompt> prompts, std::string split,
                                     uint64_t seed, const std::optional<Prices>& prices) {
  EvalReport r;
  r.split = std::move(split);
  r.n = static_cast<int64_t>(prompts.size());
  r.priced = prices.has_value();
  std::vector<const ScoredPrompt*> all;
  std::vector<std::pair<std::string, std::vector<const ScoredPrompt*>>> by_source;
  for (const ScoredPrompt& p : prompts) {
    all.push_back(&p);
    auto it = std::find_if(by_source.begin(), by_source.end(),
                           [&](const auto& s) { return s.first == p.source; });
    if (it == by_source.end()) it = by_source.insert(by_source.end(), {p.source, {}});
    it->second.push_back(&p);
  }
  std::sort(by_source.begin(), by_source.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto overall = Figures(all, true, seed, prices);
  if (!overall) return std::move(overall).error();
  r.overall = std::move(*overall);
  for (const auto& [source, list] : by_source) {
    auto figures = Figures(list, false, seed, prices);
    if (!figures) return std::move(figures).error();
    r.sources.push_back({source, std::move(*figures)});
  }
  return r;
}

std::string FormatReportJson(const EvalReport& report) {
  json::object o = FiguresJson(report.overall);
  o["split"] = report.split;
  o["outcomes"] = "normalised to [0, 1] overall; as in the data per source";
  json::object sources;
  for (const auto& [name, f] : report.sources) sources[name] = FiguresJson(f);
  o["sources"] = std::move(sources);
  return json::serialize(o) + "\n";
}

std::string FormatReportTable(const EvalReport& report) {
  std::ostringstream out;
  out << "split: " << report.split << ", " << report.n << " prompts\n";
  for (const auto& [name, f] : report.sources) {
    TableOf(name, f, out);
    out << "\n";
  }
  TableOf("overall, outcomes normalised to [0, 1]", report.overall, out);
  return out.str();
}

core::Result<std::pair<core::PricePerMTokens, core::PricePerMTokens>> ParsePricePair(
    std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "a price is IN/OUT in USD per million tokens, e.g. 10/30");
  }
  auto in = core::PricePerMTokens::Parse(text.substr(0, slash));
  if (!in) return in.error();
  auto out = core::PricePerMTokens::Parse(text.substr(slash + 1));
  if (!out) return out.error();
  return std::pair{*in, *out};
}

core::Status CheckOutputPrice(core::PricePerMTokens output, int64_t output_tokens) {
  const Int128 tokens_per_1k = static_cast<Int128>(output_tokens) * 1000;
  const Int128 max = std::numeric_limits<int64_t>::max();
  if (tokens_per_1k <= 0 || output.micro() <= max / tokens_per_1k) return {};
  const Int128 fits = max / tokens_per_1k;  // micro-USD per million tokens; below INT64_MAX
  return core::MakeError(
      core::Errc::kInvalidRequest,
      "cost overflows: 1,000 requests of " + std::to_string(output_tokens) + " output tokens at " +
          output.ToString() +
          " USD per million output tokens cost more than the largest amount a report holds (" +
          Largest() + "); at most " +
          core::PricePerMTokens::FromMicro(static_cast<int64_t>(fits)).ToString() + " fits");
}

}  // namespace sy::router
