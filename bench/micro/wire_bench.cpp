// The per-request work around the decision that issue 20 cut, pinned so that a regression shows
// in review: building an answer's header list one header at a time (BM_AnswerHeaders: one buffer,
// no allocation a header), writing a response head (BM_ResponseHead: the 14 headers of a keyed
// chat answer), decoding the benchmark's chat body into a core::Request (BM_DecodeChatRequest:
// parse into the request's arena plus the dialect's checks), and serialising the upstream body
// with the model replaced (BM_UpstreamBody: no copy of the client's DOM), and moving a
// connection's deadline later around one operation (BM_DeadlineMovedLater: what each read and
// write does; a store and a clock read, no timer operation).
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/openai/decode.h"
#include "config/config.h"
#include "core/request.h"
#include "http/detail/deadline.h"
#include "http/detail/wire.h"
#include "providers/detail/upstream_call.h"

namespace {

constexpr std::string_view kChatBody =
    R"({"model":"bench-fast","messages":[{"role":"user","content":"Say hello in five words."}],)"
    R"("max_tokens":16})";

sy::http::Headers AnswerHeaders() {
  return {{"content-type", "application/json"},
          {"x-switchyard-request-id", "req_01a237fa8879bd04098315dd"},
          {"x-switchyard-route", "profile=none; rule=model bench-fast; task=chat"},
          {"x-switchyard-attempts", "1"},
          {"x-switchyard-model", "bench-fast"},
          {"x-switchyard-provider", "fast"},
          {"x-switchyard-cost-usd", "0.000028"},
          {"x-ratelimit-limit-requests", "1000000000"},
          {"x-ratelimit-remaining-requests", "999999999"},
          {"x-ratelimit-reset-requests", "1ms"},
          {"x-ratelimit-limit-tokens", "1000000000"},
          {"x-ratelimit-remaining-tokens", "1000000000"},
          {"x-ratelimit-reset-tokens", "0ms"}};
}

void BM_AnswerHeaders(benchmark::State& state) {
  const sy::http::Headers source = AnswerHeaders();
  for (auto _ : state) {
    sy::http::Headers headers;
    headers.Reserve(16, 1024);  // as app/encode.cpp reserves an answer's
    for (const auto& [name, value] : source) headers.Add(name, value);
    benchmark::DoNotOptimize(headers);
  }
}
BENCHMARK(BM_AnswerHeaders);

void BM_ResponseHead(benchmark::State& state) {
  const sy::http::Headers headers = AnswerHeaders();
  for (auto _ : state) {
    std::string head = sy::http::detail::ResponseHead(200, headers, 439, true);
    benchmark::DoNotOptimize(head);
  }
}
BENCHMARK(BM_ResponseHead);

void BM_DecodeChatRequest(benchmark::State& state) {
  for (auto _ : state) {
    sy::core::Request request;
    auto status = sy::api::openai::DecodeChatRequest(kChatBody, 64, request);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_DecodeChatRequest);

// Never called: UpstreamBody reads only the call's body and model.
class UnusedClient final : public sy::http::Client {
 public:
  sy::http::Task<sy::core::Result<std::unique_ptr<sy::http::ClientResponse>>> Send(
      sy::http::ClientRequest) override {
    co_return sy::core::MakeError(sy::core::Errc::kInternal, "not used");
  }
  void Close() override {}
};

void BM_UpstreamBody(benchmark::State& state) {
  sy::core::Request request;
  if (!sy::api::openai::DecodeChatRequest(kChatBody, 64, request)) {
    state.SkipWithError("the bench body does not decode");
    return;
  }
  sy::config::ModelConfig model;
  model.upstream_name = "bench-fast-upstream";
  UnusedClient client;
  const sy::providers::Call call{request, request.body, model, client, {}};
  for (auto _ : state) {
    std::string body = sy::providers::detail::UpstreamBody(call).Serialize();
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_UpstreamBody);

void BM_DeadlineMovedLater(benchmark::State& state) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  sy::http::detail::Deadline deadline(socket);
  deadline.ExpireAfter(std::chrono::seconds(30));  // the one arming; every later move is a store
  for (auto _ : state) {
    deadline.ExpireAfter(std::chrono::seconds(60));
    benchmark::DoNotOptimize(deadline.Settle({}));
  }
}
BENCHMARK(BM_DeadlineMovedLater);

}  // namespace

BENCHMARK_MAIN();
