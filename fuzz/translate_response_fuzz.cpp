// api::translate::TranslateResponse, every direction (through the hub where it takes two hops), on
// any JSON value an upstream could send: it must never throw, crash or leak, refuses only with
// kUpstreamUnavailable, and what it returns is one JSON object. The billed usage is read from the
// input's usage block.
#include <cstddef>
#include <cstdint>

#include <boost/json/parse.hpp>

#include "api/translate/translate.h"
#include "fuzz_check.h"
#include "fuzz_context.h"
#include "fuzz_usage.h"

namespace {

using sy::core::Dialect;

void Translate(Dialect from, Dialect to, const boost::json::value& upstream) {
  const auto usage = sy::fuzz::UsageOf(upstream);
  const auto out = sy::api::translate::TranslateResponse(from, to, upstream, usage,
                                                         sy::fuzz::TranslationContext());
  if (!out) {
    sy::fuzz::Check(out.error().code == sy::core::Errc::kUpstreamUnavailable,
                    "refusal is kUpstreamUnavailable");
    return;
  }
  boost::system::error_code ec;
  const auto reparsed = boost::json::parse(*out, ec);
  sy::fuzz::Check(!ec && reparsed.is_object(), "the client's body is one JSON object");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  const auto upstream = boost::json::parse(sy::fuzz::AsText(data, size), ec);
  if (ec) return 0;
  for (auto from : sy::fuzz::kDialects) {
    for (auto to : sy::fuzz::kDialects) {
      if (from != to) Translate(from, to, upstream);
    }
  }
  return 0;
}
