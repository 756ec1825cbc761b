#include "providers/anthropic/anthropic_provider.h"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "emulator/emulator.h"
#include "http/detail/client_internal.h"
#include "providers/anthropic/anthropic_events.h"
#include "providers/provider_testing.h"
#include "tests/testutil/http_fetch.h"
#include "tests/testutil/run_task.h"

namespace sy::providers {
namespace {

namespace json = boost::json;
using std::chrono::steady_clock;
using testing::JsonAnswer;
using testing::ReadStream;
using testing::ScriptedClient;
using testing::ScriptedResponse;
using testing::SseFrame;
using testing::SseHeaders;
using testing::StreamRead;

// ---- ParseAnthropicUsage ----

TEST(ParseAnthropicUsage, AddsCacheReadsAndWritesToTheInputTokens) {
  auto usage = ParseAnthropicUsage(json::parse(
      R"({"input_tokens":21,"cache_creation_input_tokens":188,"cache_read_input_tokens":1900,)"
      R"("output_tokens":393,"service_tier":"standard"})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->input_tokens, 21 + 188 + 1900);
  EXPECT_EQ(usage->cached_input_tokens, 1900);
  EXPECT_EQ(usage->cache_write_input_tokens, 188);
  EXPECT_EQ(usage->output_tokens, 393);
  EXPECT_EQ(usage->reasoning_tokens, 0);
}

TEST(ParseAnthropicUsage, MissingOrNullCacheCountersCountZero) {
  auto usage = ParseAnthropicUsage(
      json::parse(R"({"input_tokens":12,"cache_creation_input_tokens":null,"output_tokens":7})"));
  ASSERT_TRUE(usage.has_value());
  EXPECT_TRUE(usage->reported);
  EXPECT_EQ(usage->input_tokens, 12);
  EXPECT_EQ(usage->cached_input_tokens, 0);
  EXPECT_EQ(usage->cache_write_input_tokens, 0);
  EXPECT_EQ(usage->output_tokens, 7);
}

// Regression: a counter written as a string, or a negative cache count, was billed as 0.
TEST(ParseAnthropicUsage, ACounterItCannotReadIsNoReportedUsage) {
  for (const char* text :
       {R"({"input_tokens":12,"output_tokens":"7"})",
        R"({"input_tokens":12,"cache_read_input_tokens":-5,"output_tokens":7})",
        R"({"input_tokens":12,"cache_creation_input_tokens":1.5,"output_tokens":7})"}) {
    auto usage = ParseAnthropicUsage(json::parse(text));
    ASSERT_TRUE(usage.has_value()) << text;
    EXPECT_FALSE(usage->reported) << text;  // the gateway estimates it
  }
}

TEST(ParseAnthropicUsage, NotAnObjectIsNoUsage) {
  EXPECT_FALSE(ParseAnthropicUsage(json::value(nullptr)).has_value());
  EXPECT_FALSE(ParseAnthropicUsage(json::parse("[1,2]")).has_value());
  EXPECT_FALSE(ParseAnthropicUsage(json::parse("42")).has_value());
}

TEST(MakeProvider, BuildsTheAnthropicAdapterForItsKind) {
  config::ProviderConfig config;
  config.name = "claude";
  config.kind = "anthropic";
  config.base_url = "https://api.anthropic.com/v1";
  auto provider = MakeProvider(config);
  ASSERT_TRUE(provider.has_value()) << provider.error().message;
  EXPECT_EQ((*provider)->dialect(), core::Dialect::kAnthropicMessages);
}

// ---- the adapter against a scripted client (no network) ----

const char* const kStart =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",)"
    R"("content":[],"usage":{"input_tokens":9,"output_tokens":1}}})";

class AnthropicScriptedTest : public ::testing::Test {
 protected:
  AnthropicScriptedTest() {
    config_.name = "claude";
    config_.kind = "anthropic";
    config_.base_url = "https://api.anthropic.com/v1//";
    model_.id = "claude-x";
    model_.upstream_name = "claude-sonnet-4-5";
    request_.dialect = core::Dialect::kAnthropicMessages;
    request_.stream = true;
    body_ = json::parse(R"({"model":"claude-x","max_tokens":64,"messages":[]})").as_object();
  }

  StreamRead Stream(http::Headers headers, std::vector<std::string> pieces) {
    client_.response =
        std::make_unique<ScriptedResponse>(200, std::move(headers), std::move(pieces));
    auto provider = MakeAnthropicProvider(config_);
    Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
    return testutil::RunTask(ReadStream(*provider, call));
  }

  core::Result<Completion> Complete(std::string answer, bool needs_json) {
    request_.stream = false;
    client_.response = JsonAnswer(std::move(answer));
    auto provider = MakeAnthropicProvider(config_);
    Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
    call.needs_json = needs_json;
    return testutil::RunTask(provider->Complete(call));
  }

  config::ProviderConfig config_;
  config::ModelConfig model_;
  core::Request request_;
  json::object body_;
  ScriptedClient client_;
};

TEST_F(AnthropicScriptedTest, CompleteReadsUsageWithoutTheDomWhenNotNeeded) {
  const std::string answer =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
      R"("content":[{"type":"text","text":"{\"usage\":{\"input_tokens\":1}}"}],)"
      R"("stop_reason":"end_turn","usage":{"input_tokens":21,)"
      R"("cache_creation_input_tokens":188,"cache_read_input_tokens":1900,)"
      R"("output_tokens":393,"service_tier":"standard"}})";
  for (const bool needs_json : {true, false}) {
    SCOPED_TRACE(needs_json ? "with the DOM" : "without the DOM");
    auto done = Complete(answer, needs_json);
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->body, answer);
    EXPECT_EQ(done->json.is_null(), !needs_json);
    EXPECT_TRUE(done->usage.reported);
    EXPECT_EQ(done->usage.input_tokens, 21 + 188 + 1900);
    EXPECT_EQ(done->usage.cached_input_tokens, 1900);
    EXPECT_EQ(done->usage.cache_write_input_tokens, 188);
    EXPECT_EQ(done->usage.output_tokens, 393);
  }
}

TEST_F(AnthropicScriptedTest, MalformedAnswerIsMalformedUpstreamWithoutTheDomToo) {
  for (const char* answer : {R"({"type":"message","usage":{"input_tokens":1})",
                             R"({"type":"message"}{"type":"message"})", "[]", ""}) {
    auto done = Complete(answer, false);
    ASSERT_FALSE(done.has_value()) << answer;
    EXPECT_EQ(done.error().code, core::Errc::kUpstreamUnavailable);
    EXPECT_NE(done.error().message.find("malformed JSON"), std::string::npos)
        << done.error().message;
  }
}

// Regression: a pass-through relayed an Anthropic error body answered with 200, or any JSON
// object, to the client as a Message.
TEST_F(AnthropicScriptedTest, A200ThatIsNoMessageFailsEitherWay) {
  for (const bool needs_json : {true, false}) {
    SCOPED_TRACE(needs_json ? "with the DOM" : "without the DOM");
    auto overloaded =
        Complete(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                 needs_json);
    ASSERT_FALSE(overloaded.has_value());
    EXPECT_EQ(overloaded.error().upstream_status, 529);
    EXPECT_NE(overloaded.error().message.find("Overloaded"), std::string::npos);
    auto none = Complete(R"({"id":"msg_1","type":"message","usage":{}})", needs_json);
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code, core::Errc::kUpstreamUnavailable);
    EXPECT_NE(none.error().message.find("without a content array"), std::string::npos)
        << none.error().message;
  }
}

TEST_F(AnthropicScriptedTest, PostsToMessagesWithVersionAndNoCredentialsWhenNoKey) {
  auto read = Stream(SseHeaders(), {SseFrame("message_start", kStart),
                                    SseFrame("message_stop", R"({"type":"message_stop"})")});
  ASSERT_FALSE(read.error) << read.error->message;
  ASSERT_EQ(client_.sent.size(), 1u);
  const auto& sent = client_.sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(sent.headers.Get("anthropic-version"), "2023-06-01");
  EXPECT_EQ(sent.headers.Get("content-type"), "application/json");
  EXPECT_EQ(sent.headers.Get("accept"), "text/event-stream");
  EXPECT_FALSE(sent.headers.Has("x-api-key"));
  EXPECT_FALSE(sent.headers.Has("authorization"));
  auto body = json::parse(sent.body);
  EXPECT_EQ(body.at("model"), "claude-sonnet-4-5");
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("max_tokens"), 64);
  EXPECT_TRUE(read.ended);
}

TEST_F(AnthropicScriptedTest, ForwardsAnthropicBetaOnlyForAnthropicClients) {
  request_.dialect_headers = {{"anthropic-beta", "context-1m-2025-08-07"}};
  auto events = {SseFrame("message_start", kStart),
                 SseFrame("message_stop", R"({"type":"message_stop"})")};
  ASSERT_FALSE(Stream(SseHeaders(), events).error);
  EXPECT_EQ(client_.sent.at(0).headers.Get("anthropic-beta"), "context-1m-2025-08-07");
  request_.dialect = core::Dialect::kOpenAiChat;  // a translated request: the header means nothing
  ASSERT_FALSE(Stream(SseHeaders(), events).error);
  EXPECT_FALSE(client_.sent.at(1).headers.Has("anthropic-beta"));
}

TEST_F(AnthropicScriptedTest, StreamThatEndsBeforeMessageStopIsMalformed) {
  auto read = Stream(SseHeaders(),
                     {SseFrame("message_start", kStart), SseFrame("ping", R"({"type":"ping"})"),
                      SseFrame("message_delta", R"({"type":"message_delta","delta":{},)"
                                                R"("usage":{"output_tokens":4}})")});
  ASSERT_TRUE(read.error.has_value());
  EXPECT_EQ(read.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(read.error->message.find("ended before message_stop"), std::string::npos)
      << read.error->message;
  ASSERT_EQ(read.events.size(), 3u);
  ASSERT_TRUE(read.events[2].usage.has_value());
  EXPECT_EQ(read.events[2].usage->input_tokens, 9);
  EXPECT_EQ(read.events[2].usage->output_tokens, 4);
}

TEST_F(AnthropicScriptedTest, ErrorEventMidStreamFailsTheStream) {
  auto read = Stream(
      SseHeaders(),
      {SseFrame("message_start", kStart),
       SseFrame("error",
                R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")});
  ASSERT_TRUE(read.error.has_value());
  EXPECT_EQ(read.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(read.error->upstream_status, 529);
  EXPECT_NE(read.error->message.find("Overloaded"), std::string::npos);
  EXPECT_EQ(read.events.size(), 1u);
}

TEST_F(AnthropicScriptedTest, CountTokensSendsOnlyThePromptFields) {
  request_.stream = false;
  body_ = json::parse(R"({"model":"claude-x","max_tokens":64,"stream":false,"temperature":0.2,)"
                      R"("system":"s","messages":[{"role":"user","content":"hi"}],)"
                      R"("tools":[],"tool_choice":{"type":"auto"}})")
              .as_object();
  client_.response = JsonAnswer(R"({"input_tokens":42})");
  auto provider = MakeAnthropicProvider(config_);
  Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
  auto count = testutil::RunTask(provider->CountTokens(call));
  ASSERT_TRUE(count.has_value()) << count.error().message;
  EXPECT_EQ(*count, 42);
  const auto& sent = client_.sent.at(0);
  EXPECT_EQ(sent.url, "https://api.anthropic.com/v1/messages/count_tokens");
  EXPECT_EQ(sent.headers.Get("anthropic-version"), "2023-06-01");
  EXPECT_EQ(
      json::parse(sent.body),
      json::parse(R"({"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],)"
                  R"("system":"s","tools":[],"tool_choice":{"type":"auto"}})"));
}

TEST_F(AnthropicScriptedTest, CountTokensWithoutTheCountIsMalformed) {
  client_.response = JsonAnswer(R"({"tokens":42})");
  auto provider = MakeAnthropicProvider(config_);
  Call call{request_, body_, model_, client_, steady_clock::now() + std::chrono::seconds(5)};
  auto count = testutil::RunTask(provider->CountTokens(call));
  ASSERT_FALSE(count.has_value());
  EXPECT_EQ(count.error().code, core::Errc::kUpstreamUnavailable);
}

TEST_F(AnthropicScriptedTest, StreamThatIsNotAnEventStreamIsRefused) {
  auto read = Stream({{"content-type", "application/json"}}, {R"({"type":"message"})"});
  ASSERT_TRUE(read.error.has_value());
  EXPECT_EQ(read.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(read.error->message.find("text/event-stream"), std::string::npos);
}

// ---- the adapter end to end against the emulator ----

// A system prompt long enough (> 1024 tokens at the emulator's 4 bytes a token) to be cached.
std::string LongSystemText() {
  std::string text;
  while (text.size() < 6000) text += "You are a meticulous assistant for the Switchyard tests. ";
  return text;
}

class AnthropicEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = emulator::Emulator::Start(emulator::Options{});
    ASSERT_TRUE(started.has_value()) << started.error().message;
    emulator_ = std::move(*started);
    client_ = http::detail::MakeClient(ioc_);
    config_.name = "anthropic-emu";
    config_.kind = "anthropic";
    config_.base_url = "http://" + emulator_->address() + "/v1/";
    config_.api_key = "sk-ant-test-key";
    model_.id = "claude-test";
    model_.provider = config_.name;
    model_.upstream_name = "instant";  // the emulator's model without latency
  }

  void TearDown() override {
    if (client_) client_->Close();
  }

  // Runs `task` on this test's io_context (the one the client lives on), for at most 10 s.
  template <typename T>
  T Run(http::Task<T> task) {
    std::optional<T> out;
    std::exception_ptr error;
    bool done = false;
    auto store = [&]() -> http::Task<void> { out.emplace(co_await std::move(task)); };
    boost::asio::co_spawn(ioc_, store(), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    const auto until = steady_clock::now() + std::chrono::seconds(10);
    ioc_.restart();
    while (!done && steady_clock::now() < until) ioc_.run_one_for(until - steady_clock::now());
    if (error) std::rethrow_exception(error);
    if (!out) std::abort();  // did not finish in time
    return std::move(*out);
  }

  std::unique_ptr<Provider> Adapter() {
    auto provider = MakeProvider(config_);
    if (!provider) std::abort();
    return std::move(*provider);
  }

  core::Result<Completion> Complete(const json::object& body, bool needs_json = true) {
    auto provider = Adapter();
    core::Request request;
    request.dialect = core::Dialect::kAnthropicMessages;
    Call call{request, body, model_, *client_, steady_clock::now() + std::chrono::seconds(10)};
    call.needs_json = needs_json;
    return Run(provider->Complete(call));
  }

  StreamRead Stream(const json::object& body) {
    auto provider = Adapter();
    core::Request request;
    request.dialect = core::Dialect::kAnthropicMessages;
    request.stream = true;
    Call call{request, body, model_, *client_, steady_clock::now() + std::chrono::seconds(10)};
    return Run(ReadStream(*provider, call));
  }

  testutil::Fetched Control(std::string method, std::string path, std::string body = "") {
    http::ClientRequest request;
    request.method = std::move(method);
    request.url = "http://" + emulator_->address() + path;
    request.body = std::move(body);
    if (!request.body.empty()) request.headers.Add("content-type", "application/json");
    return Run(testutil::Fetch(*client_, std::move(request)));
  }

  // The last request the emulator received: {method, path, headers, body}.
  json::object LastRequest() {
    auto fetched = Control("GET", "/_emulator/requests");
    EXPECT_EQ(fetched.status, 200);
    auto log = json::parse(fetched.body);
    const auto& requests = log.at("requests").as_array();
    if (requests.empty()) return {};
    return requests.back().as_object();
  }

  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<http::Client> client_;  // declared before ioc_: destroyed after its frames
  boost::asio::io_context ioc_;
  config::ProviderConfig config_;
  config::ModelConfig model_;
};

json::object CachedPromptBody() {
  json::object body;
  body["model"] = "claude-test";
  body["max_tokens"] = 40;
  body["system"] = json::array{json::object{
      {"type", "text"}, {"text", LongSystemText()}, {"cache_control", {{"type", "ephemeral"}}}}};
  body["messages"] = json::array{json::object{{"role", "user"}, {"content", "Say hello."}}};
  return body;
}

TEST_F(AnthropicEmulatorTest, CompleteReadsUsageWithCacheWritesThenCacheReads) {
  const json::object body = CachedPromptBody();
  auto first = Complete(body);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->json.at("type"), "message");
  EXPECT_EQ(json::parse(first->body), first->json);  // the body is kept as sent
  EXPECT_EQ(first->content_type, "application/json");
  const auto& wire = first->json.at("usage");
  EXPECT_TRUE(first->usage.reported);
  EXPECT_EQ(first->usage.input_tokens, wire.at("input_tokens").as_int64() +
                                           wire.at("cache_creation_input_tokens").as_int64() +
                                           wire.at("cache_read_input_tokens").as_int64());
  EXPECT_GT(first->usage.cache_write_input_tokens, 1024);
  EXPECT_EQ(first->usage.cached_input_tokens, 0);
  EXPECT_EQ(first->usage.output_tokens, wire.at("output_tokens").as_int64());
  EXPECT_GT(first->usage.output_tokens, 0);

  auto second = Complete(body);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->usage.cached_input_tokens, first->usage.cache_write_input_tokens);
  EXPECT_EQ(second->usage.cache_write_input_tokens, 0);
  EXPECT_EQ(second->usage.input_tokens, first->usage.input_tokens);
  EXPECT_LT(second->json.at("usage").at("input_tokens").as_int64(), second->usage.input_tokens);
}

TEST_F(AnthropicEmulatorTest, CompleteWithoutTheDomReadsTheUsageTheBodyCarries) {
  auto done = Complete(CachedPromptBody(), false);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_TRUE(done->json.is_null());
  EXPECT_EQ(done->content_type, "application/json");
  const auto wire = json::parse(done->body);  // the body is still the upstream's, whole
  const auto expected = ParseAnthropicUsage(wire.at("usage"));
  ASSERT_TRUE(expected.has_value());
  EXPECT_TRUE(done->usage.reported);
  EXPECT_EQ(done->usage.input_tokens, expected->input_tokens);
  EXPECT_EQ(done->usage.cache_write_input_tokens, expected->cache_write_input_tokens);
  EXPECT_EQ(done->usage.cached_input_tokens, expected->cached_input_tokens);
  EXPECT_EQ(done->usage.output_tokens, expected->output_tokens);
  EXPECT_GT(done->usage.output_tokens, 0);
}

TEST_F(AnthropicEmulatorTest, SendsTheAnthropicHeadersAndTheRewrittenBody) {
  auto done = Complete(CachedPromptBody());
  ASSERT_TRUE(done.has_value()) << done.error().message;
  json::object sent = LastRequest();
  EXPECT_EQ(sent.at("method"), "POST");
  EXPECT_EQ(sent.at("path"), "/v1/messages");
  const auto& headers = sent.at("headers").as_object();
  EXPECT_EQ(headers.at("x-api-key"), "sk-ant-test-key");
  EXPECT_EQ(headers.at("anthropic-version"), "2023-06-01");
  EXPECT_EQ(headers.at("content-type"), "application/json");
  EXPECT_EQ(headers.at("accept"), "application/json");
  EXPECT_FALSE(headers.contains("authorization"));
  const auto& body = sent.at("body").as_object();
  EXPECT_EQ(body.at("model"), "instant");
  EXPECT_EQ(body.at("stream"), false);
  EXPECT_EQ(body.at("max_tokens"), 40);
  EXPECT_EQ(body.at("messages").at(0).at("content"), "Say hello.");
}

TEST_F(AnthropicEmulatorTest, StreamIsReadToMessageStopWithUsageOnMessageDelta) {
  json::object body = CachedPromptBody();
  auto read = Stream(body);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_TRUE(read.ended);
  ASSERT_GE(read.events.size(), 4u);
  EXPECT_EQ(read.events.front().event, "message_start");
  EXPECT_EQ(read.events.back().event, "message_stop");
  EXPECT_TRUE(read.events.back().terminal);
  bool saw_ping = false;
  const StreamEvent* delta = nullptr;
  for (const auto& event : read.events) {
    saw_ping = saw_ping || event.event == "ping";
    if (event.event == "message_delta") {
      delta = &event;
    } else {
      EXPECT_FALSE(event.usage.has_value()) << event.event;
    }
  }
  EXPECT_TRUE(saw_ping);
  ASSERT_NE(delta, nullptr);
  ASSERT_TRUE(delta->usage.has_value());
  const auto& start_usage = read.events.front().Json().at("message").at("usage");
  EXPECT_EQ(delta->usage->input_tokens,
            start_usage.at("input_tokens").as_int64() +
                start_usage.at("cache_creation_input_tokens").as_int64() +
                start_usage.at("cache_read_input_tokens").as_int64());
  EXPECT_EQ(delta->usage->cache_write_input_tokens,
            start_usage.at("cache_creation_input_tokens").as_int64());
  EXPECT_GT(delta->usage->cache_write_input_tokens, 0);
  EXPECT_EQ(delta->usage->output_tokens, delta->Json().at("usage").at("output_tokens").as_int64());
  EXPECT_GT(delta->usage->output_tokens, 1);

  json::object sent = LastRequest();
  EXPECT_EQ(sent.at("headers").at("accept"), "text/event-stream");
  EXPECT_EQ(sent.at("body").at("stream"), true);
}

TEST_F(AnthropicEmulatorTest, OverloadedIs529WithRetryAfter) {
  auto fault = Control("POST", "/_emulator/faults",
                       R"({"model":"instant","status":529,"count":2,"retry_after_s":7})");
  ASSERT_EQ(fault.status, 201) << fault.body;

  auto complete = Complete(CachedPromptBody());
  ASSERT_FALSE(complete.has_value());
  EXPECT_EQ(complete.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(complete.error().upstream_status, 529);
  EXPECT_EQ(complete.error().retry_after, std::chrono::seconds(7));
  EXPECT_NE(complete.error().message.find("Overloaded"), std::string::npos)
      << complete.error().message;
  EXPECT_NE(complete.error().upstream_detail.find("overloaded_error"), std::string::npos);

  auto stream = Stream(CachedPromptBody());
  ASSERT_TRUE(stream.error.has_value());
  EXPECT_EQ(stream.error->code, core::Errc::kUpstreamUnavailable);
  EXPECT_EQ(stream.error->upstream_status, 529);
  EXPECT_EQ(stream.error->retry_after, std::chrono::seconds(7));
}

TEST_F(AnthropicEmulatorTest, RejectionCarriesAnthropicsMessage) {
  json::object body = CachedPromptBody();
  body.erase("messages");
  auto done = Complete(body);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, core::Errc::kUpstreamRejected);
  EXPECT_EQ(done.error().upstream_status, 400);
  EXPECT_NE(done.error().message.find("messages: Field required"), std::string::npos)
      << done.error().message;
  EXPECT_EQ(done.error().param, "messages");  // the path Anthropic's message leads with
}

TEST_F(AnthropicEmulatorTest, MaxTokensDefaultsWhenTheBodyHasNone) {
  json::object body = CachedPromptBody();
  body.erase("max_tokens");

  model_.max_output_tokens = 0;  // unknown: the adapter's default
  auto unknown = Complete(body);
  ASSERT_TRUE(unknown.has_value()) << unknown.error().message;
  EXPECT_EQ(LastRequest().at("body").at("max_tokens"), kAnthropicDefaultMaxTokens);

  model_.max_output_tokens = 1234;  // the model's own limit
  auto known = Complete(body);
  ASSERT_TRUE(known.has_value()) << known.error().message;
  EXPECT_EQ(LastRequest().at("body").at("max_tokens"), 1234);

  body["max_tokens"] = nullptr;  // null is no limit either
  auto null_limit = Complete(body);
  ASSERT_TRUE(null_limit.has_value()) << null_limit.error().message;
  EXPECT_EQ(LastRequest().at("body").at("max_tokens"), 1234);

  body["max_tokens"] = 17;  // the client's own limit is kept
  auto own = Complete(body);
  ASSERT_TRUE(own.has_value()) << own.error().message;
  EXPECT_EQ(LastRequest().at("body").at("max_tokens"), 17);
}

}  // namespace
}  // namespace sy::providers
