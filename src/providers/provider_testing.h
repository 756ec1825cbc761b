// Test helpers for the provider adapters: a scripted http::Client (no network) that records
// what an adapter sent and answers with a canned response, and a reader that drains a stream.
// For *_test.cpp files only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client.h"
#include "providers/provider.h"

namespace sy::providers::testing {

// A response whose body arrives in `pieces`, one per Read.
class ScriptedResponse final : public http::ClientResponse {
 public:
  ScriptedResponse(int status, http::Headers headers, std::vector<std::string> pieces)
      : status_(status), headers_(std::move(headers)), pieces_(std::move(pieces)) {}
  int status() const override { return status_; }
  const http::Headers& headers() const override { return headers_; }
  http::Task<core::Result<std::string>> Read() override {
    if (next_ == pieces_.size()) co_return std::string();
    co_return pieces_[next_++];
  }

 private:
  int status_;
  http::Headers headers_;
  std::vector<std::string> pieces_;
  size_t next_ = 0;
};

// A complete answer: `status`, content-type application/json, and `body` in one piece.
inline std::unique_ptr<ScriptedResponse> JsonAnswer(std::string body, int status = 200) {
  return std::make_unique<ScriptedResponse>(status,
                                            http::Headers{{"content-type", "application/json"}},
                                            std::vector<std::string>{std::move(body)});
}

// Records every request sent and answers the next with `response` (set it before each call).
class ScriptedClient final : public http::Client {
 public:
  http::Task<core::Result<std::unique_ptr<http::ClientResponse>>> Send(
      http::ClientRequest request) override {
    sent.push_back(std::move(request));
    co_return std::move(response);
  }
  void Close() override {}

  std::unique_ptr<http::ClientResponse> response;
  std::vector<http::ClientRequest> sent;
};

// A JSON schema with `levels` nested object properties ({"type":"object","properties":{"a":
// ...}}) around a string: 2 * levels + 1 levels deep, as a client's tool parameters may be.
inline std::string NestedSchema(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += R"({"type":"object","properties":{"a":)";
  out += R"({"type":"string"})";
  for (int i = 0; i < levels; ++i) out += "}}";
  return out;
}

inline http::Headers SseHeaders() { return {{"content-type", "text/event-stream; charset=utf-8"}}; }

// One SSE event as an upstream writes it.
inline std::string SseFrame(std::string_view name, std::string_view data) {
  return "event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n";
}

struct StreamRead {
  std::optional<core::Error> error;
  std::vector<StreamEvent> events;
  bool ended = false;  // Next returned nullopt, and again when called once more
};

// Opens the adapter's stream and reads it to its end (or its error), at most 100,000 events.
inline http::Task<StreamRead> ReadStream(Provider& provider, const Call& call) {
  StreamRead out;
  auto stream = co_await provider.Stream(call);
  if (!stream) {
    out.error = stream.error();
    co_return out;
  }
  for (int i = 0; i < 100'000; ++i) {
    auto next = co_await (*stream)->Next();
    if (!next) {
      out.error = next.error();
      co_return out;
    }
    if (!*next) break;
    out.events.push_back(std::move(**next));
  }
  auto again = co_await (*stream)->Next();
  out.ended = again.has_value() && !again->has_value();
  co_return out;
}

}  // namespace sy::providers::testing
