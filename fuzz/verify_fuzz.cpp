// The verification module on arbitrary bytes: a client's JSON schema (compiled with valijson,
// then used to validate), an upstream's answer in each wire format, the checks over it, the
// grounded claim reader and the x-switchyard-verify header parser. None may throw, crash, leak or
// recurse without bound; a refusal is kInvalidRequest (the client's) or kUpstreamUnavailable.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/json/parse.hpp>

#include "fuzz_check.h"
#include "verify/grounded.h"
#include "verify/schema.h"
#include "verify/verify.h"

namespace {

namespace json = boost::json;
using sy::fuzz::Check;

constexpr std::string_view kContext =
    "Invoice INV-2026-00417 dated 14 November 2026 from ACME Industrial Supplies GmbH: total due "
    "EUR 767.55, VAT 19%, 4 hydraulic hoses at EUR 86.50.";

// Validate's pattern budget is sized for release builds; instrumented, a matcher step costs about
// 680 ns (40 times as much), so the release budget could take 40 s, past -timeout=10
// (tools/fuzz.sh). Five million steps is 3.4 s at worst: the bound is exercised, not the clock.
constexpr int64_t kFuzzPatternSteps = 5'000'000;

// {"schema": ..., "instance": ...}: compile, then validate.
void FuzzSchema(const json::object& o) {
  const auto* schema = o.if_contains("schema");
  if (!schema) return;
  auto compiled = sy::verify::CompileSchema(*schema, "response_format.json_schema.schema");
  if (!compiled) {
    Check(compiled.error().code == sy::core::Errc::kInvalidRequest, "a bad schema is a 400");
    return;
  }
  if (const auto* instance = o.if_contains("instance")) {
    (void)sy::verify::Validate(**compiled, *instance, kFuzzPatternSteps);
  }
}

// The body read as an answer in every dialect, and every check run over it.
void FuzzAnswer(const json::value& body, std::string_view text) {
  std::vector<sy::verify::Check> checks;
  for (auto kind : {sy::verify::CheckKind::kJson, sy::verify::CheckKind::kNonEmpty,
                    sy::verify::CheckKind::kNoRefusal, sy::verify::CheckKind::kToolCall,
                    sy::verify::CheckKind::kGrounded}) {
    sy::verify::Check c;
    c.kind = kind;
    checks.push_back(std::move(c));
  }
  sy::verify::Spec spec;
  spec.context = std::string(kContext);
  sy::verify::Options options;
  options.refusal_phrases = sy::verify::DefaultRefusalPhrases();
  for (auto dialect : {sy::core::Dialect::kOpenAiChat, sy::core::Dialect::kAnthropicMessages,
                       sy::core::Dialect::kOpenAiResponses}) {
    auto output = sy::verify::ReadAnswer(dialect, body);
    if (!output) {
      Check(output.error().code == sy::core::Errc::kUpstreamUnavailable, "unreadable answer");
      continue;
    }
    const auto verdict = sy::verify::Run(checks, spec, *output, options);
    Check(verdict.passed || verdict.failed.has_value(), "a failed verdict names its check");
    sy::verify::StreamCollector collector(dialect);
    sy::core::StreamEvent event;
    event.data = std::string(text);
    event.SetJson(body);
    collector.Add(event);
    collector.Add(event);
    (void)collector.Finish();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sy::fuzz::AsText(data, size);
  const auto header = sy::verify::ParseCheckList(text);
  Check(header || header.error().code == sy::core::Errc::kInvalidRequest, "header refusal is 400");
  const auto grounded = sy::verify::CheckGrounded(kContext, text);
  Check(grounded.found <= grounded.claims, "found claims are claims");
  boost::system::error_code ec;
  json::parse_options limits;
  limits.max_depth = 64;  // as the gateway's decoder
  const json::value body = json::parse(text, ec, {}, limits);
  if (ec) return 0;
  if (const auto* o = body.if_object()) FuzzSchema(*o);
  FuzzAnswer(body, text);
  return 0;
}
