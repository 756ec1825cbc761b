// providers::detail::ScanOpenAiChunk (and so ScanAnswer) against the DOM, on any text: the scan
// accepts exactly what json::parse accepts as one object under the gateway's parse options; its
// usage is the object's top-level "usage" member, identical down to number kinds; its error
// flag says whether the top-level "error" member is there and not null; and what it says the
// chunk generated is providers::ChunkGenerated of the parsed object, the relay's DOM reading.
// The same text as an Anthropic content_block_delta (ScanAnthropicDelta): the same verdict, its
// type read as the DOM has it, and its bytes equal to providers::AnthropicDeltaBytes; and as a
// Responses delta (ScanResponsesDelta), likewise against providers::ResponsesDeltaBytes.
#include <cstddef>
#include <cstdint>

#include <boost/json/parse.hpp>

#include "core/json_depth.h"
#include "fuzz_check.h"
#include "providers/detail/answer_scan.h"
#include "providers/stream_generated.h"
#include "tests/testutil/json_identical.h"

namespace {

namespace json = boost::json;
using sy::fuzz::Check;
using sy::testutil::Identical;

constexpr std::string_view kResponsesType = "response.output_text.delta";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = sy::fuzz::AsText(data, size);
  // A shallow limit too, so that the depth refusal is reached.
  for (const int64_t depth : {sy::core::kDefaultMaxJsonDepth, int64_t{2}}) {
    const json::parse_options options = sy::core::EchoParseOptions(depth);
    boost::system::error_code ec;
    const json::value parsed = json::parse(text, ec, {}, options);
    const auto scanned = sy::providers::detail::ScanOpenAiChunk(text, options);
    const bool object = !ec && parsed.is_object();
    Check(scanned.has_value() == object, "the scan accepts what json::parse accepts as an object");
    if (!object) {
      Check(!sy::providers::detail::ScanAnthropicDelta(text, options), "nor the delta scan");
      Check(!sy::providers::detail::ScanResponsesDelta(text, kResponsesType, options),
            "nor the Responses delta scan");
      continue;
    }
    const auto& obj = parsed.get_object();
    const auto* usage = obj.if_contains("usage");
    Check(scanned->answer.usage.has_value() == (usage != nullptr), "usage found as the DOM has it");
    if (usage)
      Check(Identical(*scanned->answer.usage, *usage), "usage read as json::parse reads it");
    const auto* error = obj.if_contains("error");
    Check(scanned->answer.error == (error && !error->is_null()), "error as the DOM has it");
    const auto* choices = obj.if_contains("choices");
    Check(scanned->answer.choices == (choices && choices->is_array()), "choices as the DOM has it");
    const auto* content = obj.if_contains("content");
    Check(scanned->answer.content == (content && content->is_array()), "content as the DOM has it");
    Check(scanned->generated == sy::providers::ChunkGenerated(parsed),
          "generated as the relay reads it from the DOM");
    const auto delta = sy::providers::detail::ScanAnthropicDelta(text, options);
    Check(delta.has_value(), "the delta scan accepts what json::parse accepts as an object");
    const auto* type = obj.if_contains("type");
    Check(delta->type_matches ==
              (type && type->is_string() && type->get_string() == "content_block_delta"),
          "a delta's type as the DOM has it");
    Check(delta->bytes == sy::providers::AnthropicDeltaBytes(parsed),
          "a delta's bytes as the relay reads them from the DOM");
    const auto responses = sy::providers::detail::ScanResponsesDelta(text, kResponsesType, options);
    Check(responses.has_value(), "the Responses delta scan accepts it too");
    Check(responses->type_matches ==
              (type && type->is_string() && type->get_string() == kResponsesType),
          "a Responses delta's type as the DOM has it");
    Check(responses->bytes == sy::providers::ResponsesDeltaBytes(parsed),
          "a Responses delta's bytes as the relay reads them from the DOM");
  }
  return 0;
}
