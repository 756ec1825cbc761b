// The verification decision path, per answer: the checks a structured extraction runs
// (json_schema over a ~1 KB answer, schema compiled per request), the grounded check of a 2 KB
// answer against a 20 KB context, reading a streamed answer back (StreamCollector), and how a
// shadow's answer agrees with the live one (Compare: the JSON path, off the request path), and
// the JSON Schema pattern check's worst case.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "verify/agreement.h"
#include "verify/schema.h"
#include "verify/verify.h"

namespace {

namespace json = boost::json;
using sy::verify::Check;
using sy::verify::CheckKind;

constexpr std::string_view kSchema = R"({"type":"object","required":["invoice","total","lines"],
 "properties":{"invoice":{"type":"string","pattern":"^INV-[0-9]{4}-[0-9]+$"},
 "date":{"type":"string"},"total":{"type":"number","minimum":0},
 "lines":{"type":"array","items":{"type":"object","required":["description","amount"],
  "properties":{"description":{"type":"string"},"quantity":{"type":"integer"},
  "amount":{"type":"number"}},"additionalProperties":false}}},"additionalProperties":false})";

std::string Answer() {
  std::string lines;
  for (int i = 0; i < 12; ++i) {
    if (i) lines += ",";
    lines += R"({"description":"Hydraulic hose DN16, 10 m, item )" + std::to_string(i) +
             R"(","quantity":4,"amount":346.00})";
  }
  return R"({"invoice":"INV-2026-00417","date":"14 November 2026","total":767.55,"lines":[)" +
         lines + "]}";
}

std::vector<Check> Checks(std::initializer_list<CheckKind> kinds) {
  std::vector<Check> out;
  for (CheckKind k : kinds) {
    Check c;
    c.kind = k;
    out.push_back(std::move(c));
  }
  return out;
}

void BM_JsonSchemaCheck(benchmark::State& state) {
  const json::value schema = json::parse(kSchema);
  auto compiled = sy::verify::CompileSchema(schema, "response_format.json_schema.schema");
  sy::verify::Spec spec;
  spec.answer_schema = *compiled;
  sy::verify::Output output;
  output.text = Answer();
  const auto checks = Checks({CheckKind::kNonEmpty, CheckKind::kNoRefusal, CheckKind::kJsonSchema});
  sy::verify::Options options;
  options.refusal_phrases = sy::verify::DefaultRefusalPhrases();
  for (auto _ : state) {
    auto verdict = sy::verify::Run(checks, spec, output, options);
    benchmark::DoNotOptimize(verdict);
  }
  state.SetLabel(std::to_string(output.text.size()) + " B answer");
}
BENCHMARK(BM_JsonSchemaCheck);

// The pattern check's worst case (verify/schema.h): one string of state.range(0) bytes against
// a 601-byte pattern of 300 quantifiers that keeps every state of the matcher alive, and against
// an ordinary one. Their steps a byte (the pattern's weight) set Validate's step budget.
void BM_PatternSteps(benchmark::State& state, std::string pattern) {
  json::object schema{{"pattern", pattern}};
  auto compiled = sy::verify::CompileSchema(schema, "schema");
  const json::value subject(std::string(static_cast<size_t>(state.range(0)), 'a'));
  for (auto _ : state) {
    auto error = sy::verify::Validate(**compiled, subject);
    benchmark::DoNotOptimize(error);
  }
  const double steps = static_cast<double>(pattern.size()) * static_cast<double>(state.range(0));
  state.counters["ns_per_step"] = benchmark::Counter(
      steps, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
std::string NestedQuantifiers() {
  std::string p;
  for (int i = 0; i < 300; ++i) p += "a*";
  return p + "b";
}
BENCHMARK_CAPTURE(BM_PatternSteps, nested_quantifiers, NestedQuantifiers())->Arg(4096);
BENCHMARK_CAPTURE(BM_PatternSteps, invoice, std::string("^INV-[0-9]{4}-[0-9]+$"))->Arg(4096);
BENCHMARK_CAPTURE(BM_PatternSteps, unanchored, std::string("[0-9]+-[a-z]+"))->Arg(4096);

void BM_CompileSchema(benchmark::State& state) {
  const json::value schema = json::parse(kSchema);
  for (auto _ : state) {
    auto compiled = sy::verify::CompileSchema(schema, "response_format.json_schema.schema");
    benchmark::DoNotOptimize(compiled);
  }
}
BENCHMARK(BM_CompileSchema);

void BM_GroundedCheck(benchmark::State& state) {
  std::string context;
  while (context.size() < 20'000) {
    context +=
        "The quarterly report of Nordlicht Logistics AB lists revenue of EUR 4,210,000 for "
        "Q3 2026, up 12.5% on Q2, with 318 employees in Stockholm and Hamburg. ";
  }
  std::string answer;
  while (answer.size() < 2'000) {
    answer +=
        "Nordlicht Logistics AB reported revenue of EUR 4,210,000 in Q3 2026, 12.5% more "
        "than in Q2; it employs 318 people in Stockholm and Hamburg. ";
  }
  sy::verify::Spec spec;
  spec.context = context;
  sy::verify::Output output;
  output.text = answer;
  const auto checks = Checks({CheckKind::kGrounded});
  for (auto _ : state) {
    auto verdict = sy::verify::Run(checks, spec, output, {});
    benchmark::DoNotOptimize(verdict);
  }
  state.SetLabel("2 KB answer, 20 KB context");
}
BENCHMARK(BM_GroundedCheck);

void BM_StreamCollector(benchmark::State& state) {
  std::vector<sy::core::StreamEvent> events;
  for (int i = 0; i < 200; ++i) {
    sy::core::StreamEvent e;
    e.data = R"({"choices":[{"index":0,"delta":{"content":" river"}}]})";
    e.SetJson(json::parse(e.data));
    events.push_back(std::move(e));
  }
  for (auto _ : state) {
    sy::verify::StreamCollector collector(sy::core::Dialect::kOpenAiChat);
    for (const auto& e : events) collector.Add(e);
    auto output = collector.Finish();
    benchmark::DoNotOptimize(output);
  }
  state.SetLabel("200 chunks");
}
BENCHMARK(BM_StreamCollector);

// The same extraction answered with its keys in another order and other spacing: the text
// differs, so both sides are parsed and compared as JSON.
void BM_AgreementJson(benchmark::State& state) {
  sy::verify::Output live;
  live.text = Answer();
  sy::verify::Output shadow;
  shadow.text = json::serialize(json::parse(live.text)) + "\n";
  shadow.text.insert(1, " ");
  for (auto _ : state) {
    auto agreement = sy::verify::Compare(live, shadow);
    benchmark::DoNotOptimize(agreement);
  }
  state.SetLabel(std::to_string(live.text.size()) + " B answers");
}
BENCHMARK(BM_AgreementJson);

}  // namespace

BENCHMARK_MAIN();
