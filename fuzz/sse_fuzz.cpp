// http::SseParser fed the input in pieces: the last bytes of the input choose the piece sizes
// (FuzzedDataProvider takes integers from the end), the rest is the stream. Properties: no
// crash or leak, and the events do not depend on where the network split the bytes (the same
// stream fed whole yields the same events).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_check.h"
#include "http/sse.h"

namespace {

using sy::http::SseEvent;
using sy::http::SseParser;

void Drain(SseParser& parser, std::vector<SseEvent>& out) {
  while (auto e = parser.Next()) out.push_back(std::move(*e));
}

bool Same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  std::vector<size_t> pieces(provider.ConsumeIntegralInRange<size_t>(0, 8));
  for (auto& piece : pieces) piece = provider.ConsumeIntegralInRange<size_t>(1, 64);
  const std::string stream = provider.ConsumeRemainingBytesAsString();

  SseParser whole;
  whole.Feed(stream);
  std::vector<SseEvent> expected;
  Drain(whole, expected);

  SseParser split;
  std::vector<SseEvent> got;
  size_t pos = 0;
  for (size_t i = 0; pos < stream.size(); ++i) {
    const size_t n = pieces.empty() ? stream.size() : pieces[i % pieces.size()];
    split.Feed(std::string_view(stream).substr(pos, n));
    pos += n;
    Drain(split, got);
    (void)split.overflowed();
  }
  sy::fuzz::Check(Same(got, expected), "the events do not depend on the split points");
  sy::fuzz::Check(split.has_partial() == whole.has_partial(),
                  "has_partial does not depend on the split points");

  // A small event limit: overflowed() must be computable at any point.
  SseParser small(64);
  small.Feed(stream);
  while (!small.overflowed() && small.Next()) {
  }
  return 0;
}
