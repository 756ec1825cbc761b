#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <set>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/money_checked.h"
#include "core/table.h"

namespace sy::eval {
namespace {

namespace json = boost::json;

// USD per 1,000 successful tasks, four decimals: the cost per success to seven decimals with the
// point moved three places, so no multiplication (cost_per_success * 1000 would overflow past
// about 9,223 USD per success).
std::string Per1k(const std::optional<core::Money>& per_success) {
  if (!per_success) return "-";
  std::string fixed = per_success->ToFixed(7);  // "[-]W.FFFFFFF"
  const size_t dot = fixed.find('.');
  fixed.erase(dot, 1);
  fixed.insert(dot + 3, ".");
  // "0001.2345" -> "1.2345": the zeros the shift brought in front of the whole part go.
  const size_t sign = fixed[0] == '-' ? 1 : 0;
  while (fixed[sign] == '0' && fixed[sign + 1] != '.') fixed.erase(sign, 1);
  return fixed;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

std::string Ms(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(us) / 1000);
  return buf;
}

int64_t NearestRank(std::vector<int64_t>& sorted_us, double q) {
  if (sorted_us.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted_us.size())));
  return sorted_us[std::clamp<size_t>(rank, 1, sorted_us.size()) - 1];
}

core::Error CostOverflows(const Row& row) {
  return core::MakeError(core::Errc::kInvalidRequest,
                         "cost overflows: the attempts of policy " + row.policy +
                             (row.task_type.empty() ? "" : " on task type " + row.task_type) +
                             " cost more in total than the largest amount a report holds (" +
                             core::kLargestMoney.ToString() +
                             " USD); check their x-switchyard-cost-usd");
}

// Builds one row from the outcomes that `keep` selects. Fails when the cost sum passes the range
// of Money (each attempt's cost is any Money a header held).
template <typename Keep>
core::Result<Row> BuildRow(const Suite& suite, const PolicyRun& run, std::string task_type,
                           int max_k, Keep keep) {
  Row row;
  row.policy = run.policy;
  row.task_type = std::move(task_type);
  std::vector<int64_t> latencies;
  std::map<size_t, std::pair<int64_t, int64_t>> per_item;  // item -> (passed, attempts)
  for (const Outcome& o : run.outcomes) {
    const SuiteItem& item = suite.items[o.item];
    if (!keep(item)) continue;
    ++row.attempts;
    row.passed += o.passed ? 1 : 0;
    row.unanswered += o.answered ? 0 : 1;
    const auto cost = core::CheckedAdd(row.cost, o.cost);
    if (!cost) return CostOverflows(row);
    row.cost = *cost;
    latencies.push_back(o.latency_us);
    if (item.factual) {
      ++row.factual_attempts;
      row.factual_failures += o.passed ? 0 : 1;
    }
    if (!o.model.empty()) ++row.models[o.model];
    if (!o.passed && row.failures.size() < kMaxFailuresListed) {
      row.failures.push_back({item.id, o.failure});
    }
    auto& [passed, attempts] = per_item[o.item];
    passed += o.passed ? 1 : 0;
    ++attempts;
  }
  row.items = static_cast<int64_t>(per_item.size());
  if (row.passed > 0) row.cost_per_success = core::DivideMoney(row.cost, row.passed);
  std::sort(latencies.begin(), latencies.end());
  row.p50_us = NearestRank(latencies, 0.50);
  row.p95_us = NearestRank(latencies, 0.95);
  for (int k = 1; k <= max_k; ++k) {
    double sum = 0;
    for (const auto& [item, counts] : per_item) {
      const double p = static_cast<double>(counts.first) / static_cast<double>(counts.second);
      sum += 1 - std::pow(1 - p, k);
    }
    row.within_k.push_back(per_item.empty() ? 0 : sum / static_cast<double>(per_item.size()));
  }
  return row;
}

json::object RowJson(const Row& row) {
  json::object o;
  o["items"] = row.items;
  o["attempts"] = row.attempts;
  o["passed"] = row.passed;
  o["unanswered"] = row.unanswered;
  o["success_rate"] = row.SuccessRate();
  o["cost_usd"] = row.cost.ToString();
  o["cost_per_success_usd"] =
      row.cost_per_success ? json::value(row.cost_per_success->ToString()) : json::value(nullptr);
  o["p50_ms"] = static_cast<double>(row.p50_us) / 1000;
  o["p95_ms"] = static_cast<double>(row.p95_us) / 1000;
  const auto factual = row.FactualFailureRate();
  o["factual_failure_rate"] = factual ? json::value(*factual) : json::value(nullptr);
  json::array within;
  for (double p : row.within_k) within.push_back(p);
  o["p_success_within_k"] = std::move(within);
  json::object models;
  for (const auto& [model, count] : row.models) models[model] = count;
  o["models"] = std::move(models);
  return o;
}

// "suite demo: 100 items, 1 attempt each", and the note on the next line.
std::string Heading(const Report& r, bool markdown) {
  const std::string title = "suite " + r.suite + ": " + std::to_string(r.items) + " items, " +
                            std::to_string(r.attempts_per_item) + " attempt" +
                            (r.attempts_per_item == 1 ? "" : "s") + " each" +
                            (r.dialect == "openai" ? "" : ", sent as " + r.dialect);
  if (!markdown) return r.note.empty() ? title : title + "\n" + r.note;
  return "**" + title + "**" + (r.note.empty() ? "" : "\n\n_" + r.note + "_");
}

std::vector<core::TableRow> TotalsRows(const Report& r, bool markdown) {
  core::TableRow head = {"policy", "success", "USD per 1k successes", "total USD",
                         "p50 ms", "p95 ms",  "factual failures"};
  // P(success within k) says something only when items were tried more than once.
  const size_t ks = r.attempts_per_item > 1 && !r.totals.empty() ? r.totals[0].within_k.size() : 1;
  for (size_t k = 2; k <= ks; ++k) head.push_back("P(ok within " + std::to_string(k) + ")");
  std::vector<core::TableRow> rows = {head};
  for (const Row& row : r.totals) {
    const auto factual = row.FactualFailureRate();
    core::TableRow cells = {markdown ? "`" + row.policy + "`" : row.policy,
                            Percent(row.SuccessRate()),
                            Per1k(row.cost_per_success),
                            row.cost.ToFixed(6),
                            Ms(row.p50_us),
                            Ms(row.p95_us),
                            factual ? Percent(*factual) : "-"};
    for (size_t k = 1; k < ks; ++k) cells.push_back(Percent(row.within_k[k]));
    rows.push_back(std::move(cells));
  }
  return rows;
}

// "answered by", then a line per policy: "  auto: claude-opus-4.7 14, deepseek-v4-flash 47", the
// model that answered each attempt (the last of its chain).
std::string AnsweredBy(const Report& r) {
  std::string out = "answered by\n";
  for (const Row& row : r.totals) {
    std::string models;
    for (const auto& [model, count] : row.models) {
      models += (models.empty() ? "" : ", ") + model + " " + std::to_string(count);
    }
    out += "  " + row.policy + ": " + (models.empty() ? "-" : models) + "\n";
  }
  return out;
}

std::vector<core::TableRow> TaskRows(const Report& r, bool markdown) {
  std::vector<core::TableRow> rows = {
      {"policy", "task type", "items", "success", "USD per 1k successes", "p50 ms", "p95 ms"}};
  for (const Row& row : r.by_task) {
    rows.push_back({markdown ? "`" + row.policy + "`" : row.policy, row.task_type,
                    std::to_string(row.items), Percent(row.SuccessRate()),
                    Per1k(row.cost_per_success), Ms(row.p50_us), Ms(row.p95_us)});
  }
  return rows;
}

// "lowest cost per successful task: auto, 0.2345 USD per 1,000; 78.1% below gpt-5.5 (...)".
std::string Verdict(const Report& r) {
  const std::string bar =
      r.min_success > 0 ? " among policies with at least " + Percent(r.min_success) + " success"
                        : "";
  const auto best = Cheapest(r);
  if (!best) {
    return bar.empty() ? "no policy passed any task"
                       : "no policy reached " + Percent(r.min_success) + " success";
  }
  const Row& b = r.totals[*best];
  std::string out = "lowest cost per successful task" + bar + ": " + b.policy + ", " +
                    Per1k(b.cost_per_success) + " USD per 1,000 successes at " +
                    Percent(b.SuccessRate()) + " success";
  for (const Row& other : r.totals) {
    if (&other == &b) continue;
    const std::string figures =
        " (" + Per1k(other.cost_per_success) + ", " + Percent(other.SuccessRate()) + " success)";
    if (!other.cost_per_success) {
      out += "; " + other.policy + " passed nothing";
    } else if (other.SuccessRate() < r.min_success) {
      out += "; " + other.policy + " below the bar" + figures;
    } else {
      const double mine = static_cast<double>(b.cost_per_success->pico());
      const double theirs = static_cast<double>(other.cost_per_success->pico());
      char saving[32];
      std::snprintf(saving, sizeof saving, "%.1f%%",
                    theirs > 0 ? (theirs - mine) / theirs * 100 : 0.0);
      out += "; " + std::string(saving) + " below " + other.policy + figures;
    }
  }
  return out;
}

// An axis: `count` steps of `step` from `low` to `high`.
struct Ticks {
  double low = 0;
  double high = 1;
  double step = 0.2;
  int count = 5;
};

// Success rate from a round 5% (10% past a 40-point spread) below the worst policy to 100%.
Ticks RateTicks(double min_rate) {
  const double step = min_rate >= 0.6 ? 0.05 : 0.1;
  const double low = std::max(0.0, std::floor((min_rate - 0.01) / step) * step);
  const int count = static_cast<int>(std::lround((1 - low) / step));
  return {low, low + step * count, step, count};
}

// Cost from 0 past the dearest policy, in steps of 1, 2 or 5 times a power of ten.
Ticks CostTicks(double max_cost) {
  if (max_cost <= 0) return {};
  const double raw = max_cost * 1.1 / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 5.0}) {
    if (magnitude * m >= raw) {
      step = magnitude * m;
      break;
    }
  }
  const int count = static_cast<int>(std::ceil(max_cost * 1.05 / step));
  return {0, step * count, step, count};
}

// `text` cut into lines of at most `width` bytes at spaces (a longer word gets a line of its own).
std::vector<std::string> WrapWords(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    line += (line.empty() ? "" : " ") + std::string(word);
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// printf to the end of `out`, for SVG markup (each call writes well under 512 bytes).
__attribute__((format(printf, 2, 3))) void AppendF(std::string& out, const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  out += buf;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

double Row::SuccessRate() const {
  return attempts == 0 ? 0 : static_cast<double>(passed) / static_cast<double>(attempts);
}

std::optional<double> Row::FactualFailureRate() const {
  if (factual_attempts == 0) return std::nullopt;
  return static_cast<double>(factual_failures) / static_cast<double>(factual_attempts);
}

core::Result<Report> Summarize(const Suite& suite, std::string suite_name, int attempts_per_item,
                               const std::vector<PolicyRun>& runs) {
  Report report;
  report.suite = std::move(suite_name);
  report.attempts_per_item = attempts_per_item;
  report.items = suite.items.size();
  const int max_k = std::max(3, attempts_per_item);
  std::set<std::string> task_types;
  for (const auto& item : suite.items) task_types.insert(item.task_type);
  for (const PolicyRun& run : runs) {
    auto total = BuildRow(suite, run, "", max_k, [](const SuiteItem&) { return true; });
    if (!total) return std::move(total).error();
    report.totals.push_back(std::move(*total));
    for (const std::string& type : task_types) {
      auto row = BuildRow(suite, run, type, max_k,
                          [&](const SuiteItem& item) { return item.task_type == type; });
      if (!row) return std::move(row).error();
      report.by_task.push_back(std::move(*row));
    }
  }
  return report;
}

std::optional<size_t> Cheapest(const Report& report) {
  std::optional<size_t> best;
  for (size_t i = 0; i < report.totals.size(); ++i) {
    const Row& row = report.totals[i];
    if (!row.cost_per_success || row.SuccessRate() < report.min_success) continue;
    if (!best) {
      best = i;
      continue;
    }
    const Row& b = report.totals[*best];
    if (*row.cost_per_success < *b.cost_per_success ||
        (*row.cost_per_success == *b.cost_per_success && row.SuccessRate() > b.SuccessRate())) {
      best = i;
    }
  }
  return best;
}

std::string FormatTable(const Report& report) {
  return Heading(report, false) + "\n\n" +
         core::AlignedTable(TotalsRows(report, false), core::TableStyle{.text_columns = 1}) + "\n" +
         AnsweredBy(report) + "\nby task type\n" +
         core::AlignedTable(TaskRows(report, false), core::TableStyle{.text_columns = 2}) + "\n" +
         Verdict(report) + "\n";
}

std::string FormatMarkdown(const Report& report) {
  return Heading(report, true) + "\n\n" + core::MarkdownTable(TotalsRows(report, true), 1) + "\n" +
         Verdict(report) + "\n\n" + core::MarkdownTable(TaskRows(report, true), 2);
}

std::string FormatJson(const Report& report) {
  json::object out;
  out["suite"] = report.suite;
  if (!report.note.empty()) out["note"] = report.note;
  out["items"] = report.items;
  out["attempts_per_item"] = report.attempts_per_item;
  out["min_success"] = report.min_success;
  out["dialect"] = report.dialect;
  json::array policies;
  for (const Row& total : report.totals) {
    json::object p = RowJson(total);
    p.emplace("name", total.policy);
    json::array failures;
    for (const Failure& f : total.failures) {
      failures.push_back(json::object{{"item", f.item}, {"reason", f.reason}});
    }
    p["failures"] = std::move(failures);
    json::array tasks;
    for (const Row& row : report.by_task) {
      if (row.policy != total.policy) continue;
      json::object t = RowJson(row);
      t.emplace("task_type", row.task_type);
      tasks.push_back(std::move(t));
    }
    p["task_types"] = std::move(tasks);
    policies.push_back(std::move(p));
  }
  out["policies"] = std::move(policies);
  const auto best = Cheapest(report);
  out["cheapest"] = best ? json::value(report.totals[*best].policy) : json::value(nullptr);
  return json::serialize(out) + "\n";
}

std::string FormatSvg(const Report& report) {
  constexpr double kW = 720, kH = 460, kLeft = 90, kRight = 40, kBottom = 60, kLine = 16;
  const std::vector<std::string> note = WrapWords(report.note, 100);
  const double top = 50 + kLine * static_cast<double>(note.size());
  const double plot_w = kW - kLeft - kRight, plot_h = kH - top - kBottom;
  double min_rate = 1, max_cost = 0;
  for (const Row& row : report.totals) {
    if (!row.cost_per_success) continue;
    min_rate = std::min(min_rate, row.SuccessRate());
    max_cost = std::max(max_cost, static_cast<double>(row.cost_per_success->pico()) * 1e-9);
  }
  const Ticks x = RateTicks(min_rate);
  const Ticks y = CostTicks(max_cost);
  const auto px = [&](double rate) { return kLeft + (rate - x.low) / (x.high - x.low) * plot_w; };
  const auto py = [&](double cost) { return top + plot_h - cost / y.high * plot_h; };
  std::string svg;
  AppendF(svg,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
          kW, kH, kW, kH);
  AppendF(svg, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
  AppendF(svg, "<text x=\"%.0f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">", kLeft);
  svg += "Cost per successful task vs success rate: " + Escape(report.suite) + "</text>\n";
  for (size_t i = 0; i < note.size(); ++i) {
    AppendF(svg, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#555\">", kLeft,
            42 + kLine * static_cast<double>(i));
    svg += Escape(note[i]) + "</text>\n";
  }
  AppendF(svg,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
          "stroke=\"#999\"/>\n",
          kLeft, top, plot_w, plot_h);
  for (int i = 0; i <= x.count; ++i) {
    const double rate = x.low + x.step * i;
    AppendF(svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
            px(rate), top, px(rate), top + plot_h);
    AppendF(svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f%%</text>\n", px(rate),
            top + plot_h + 18, rate * 100);
  }
  for (int i = 0; i <= y.count; ++i) {
    const double cost = y.step * i;
    AppendF(svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", kLeft,
            py(cost), kLeft + plot_w, py(cost));
    AppendF(svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", kLeft - 6,
            py(cost) + 4, cost);
  }
  AppendF(svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">success rate</text>\n",
          kLeft + plot_w / 2, kH - 16);
  AppendF(svg,
          "<text transform=\"translate(22 %.1f) rotate(-90)\" text-anchor=\"middle\">USD per 1,000 "
          "successful tasks</text>\n",
          top + plot_h / 2);
  const auto best = Cheapest(report);
  for (size_t i = 0; i < report.totals.size(); ++i) {
    const Row& row = report.totals[i];
    if (!row.cost_per_success) continue;
    const double cx = px(row.SuccessRate());
    const double cy = py(static_cast<double>(row.cost_per_success->pico()) * 1e-9);
    AppendF(svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\"/>\n", cx, cy,
            best && *best == i ? "#1a7f37" : "#0550ae");
    // Labels of points in the right third go to their left, so they stay inside the chart.
    const bool left = cx > kLeft + plot_w * 2 / 3;
    AppendF(svg, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", left ? cx - 10 : cx + 10,
            cy - 8, left ? "end" : "start");
    svg += Escape(row.policy) + " (" + Per1k(row.cost_per_success) + ")</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace sy::eval
