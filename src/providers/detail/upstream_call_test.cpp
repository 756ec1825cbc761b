#include "providers/detail/upstream_call.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/json_depth.h"
#include "providers/openai_compat/openai_events.h"
#include "providers/provider_testing.h"
#include "tests/testutil/run_task.h"

namespace sy::providers::detail {
namespace {

namespace json = boost::json;

// A Client that is never called: UpstreamBody only reads the call's body and model.
class UnusedClient final : public http::Client {
 public:
  http::Task<core::Result<std::unique_ptr<http::ClientResponse>>> Send(
      http::ClientRequest) override {
    co_return core::MakeError(core::Errc::kInternal, "not used");
  }
  void Close() override {}
};

struct Fixture {
  explicit Fixture(std::string_view body_text, std::string upstream_name = "up-model")
      : body(json::parse(body_text).as_object()) {
    model.upstream_name = std::move(upstream_name);
  }
  Call MakeCall() { return Call{request, body, model, client, {}}; }

  core::Request request;
  json::object body;
  config::ModelConfig model;
  UnusedClient client;
};

TEST(UpstreamBody, SetsTheModelWhereItStandsAndKeepsTheRestAsSent) {
  Fixture f(R"({"messages":[{"role":"user","content":"a \"quoted\"\nline é"}],"model":"alias",)"
            R"("temperature":0.5,"n":2})");
  const Call call = f.MakeCall();
  UpstreamBody body(call);
  EXPECT_EQ(body.Serialize(),
            R"({"messages":[{"role":"user","content":"a \"quoted\"\nline é"}],"model":"up-model",)"
            R"("temperature":5E-1,"n":2})");
  EXPECT_EQ(json::serialize(f.body.at("model")), R"("alias")");  // the client's DOM is untouched
}

TEST(UpstreamBody, AppendsNewMembersErasesAndFindsTheEditedView) {
  Fixture f(R"({"model":"m","previous_response_id":"resp_1","input":"hi","store":true})");
  const Call call = f.MakeCall();
  UpstreamBody body(call);
  body.Set("store", false);
  body.Erase("previous_response_id");
  body.Set("max_tokens", 64);
  body.Set("max_tokens", 128);  // the last edit wins
  EXPECT_EQ(body.Serialize(),
            R"({"model":"up-model","input":"hi","store":false,"max_tokens":128})");
  ASSERT_NE(body.Find("store"), nullptr);
  EXPECT_FALSE(body.Find("store")->as_bool());
  EXPECT_EQ(body.Find("previous_response_id"), nullptr);
  EXPECT_EQ(body.Find("input")->as_string(), "hi");
  EXPECT_EQ(body.Find("absent"), nullptr);
}

TEST(UpstreamBody, ErasingAnAbsentMemberAndAnEmptyBodyStayValidJson) {
  Fixture f("{}");
  const Call call = f.MakeCall();
  UpstreamBody body(call);
  body.Erase("nothing");
  EXPECT_EQ(body.Serialize(), R"({"model":"up-model"})");
  const auto reparsed = json::parse(body.Serialize());
  EXPECT_EQ(reparsed.as_object().size(), 1u);
}

TEST(UpstreamBody, ADeploymentNameOverridesTheModelsUpstreamName) {
  Fixture f(R"({"model":"alias"})");
  Call call = f.MakeCall();
  call.upstream_name = "deployment-name";
  EXPECT_EQ(UpstreamBody(call).Serialize(), R"({"model":"deployment-name"})");
}

// Regression: the provider's max_idle_connections was read and validated, never used.
TEST(JsonPost, CarriesTheProvidersTimeoutsAndIdleConnectionLimit) {
  Fixture f(R"({"model":"m"})");
  config::ProviderConfig config;
  config.timeouts.connect = std::chrono::milliseconds(7);
  config.timeouts.first_byte = std::chrono::milliseconds(8);
  config.timeouts.idle = std::chrono::milliseconds(9);
  config.max_idle_connections = 0;
  const http::ClientRequest none = JsonPost(config, f.MakeCall(), "http://u/v1/x", "{}");
  EXPECT_EQ(none.connect_timeout, std::chrono::milliseconds(7));
  EXPECT_EQ(none.first_byte_timeout, std::chrono::milliseconds(8));
  EXPECT_EQ(none.idle_timeout, std::chrono::milliseconds(9));
  EXPECT_EQ(none.max_idle_connections, 0u);
  config.max_idle_connections = 3;
  EXPECT_EQ(JsonPost(config, f.MakeCall(), "http://u/v1/x", "{}").max_idle_connections, 3u);
}

// Regression: an estimate of the prompt (the upstream's usage never arrived) counted the client's
// own body, which a Responses conversation or a translation makes far smaller than what was sent.
TEST(JsonPost, StoresTheSizeOfTheBodyItPostsWhenAsked) {
  Fixture f(R"({"model":"m"})");
  const std::string posted(100'000, 'x');
  Call call = f.MakeCall();
  EXPECT_EQ(JsonPost({}, call, "http://u/v1/x", posted).body.size(), posted.size());  // not asked
  size_t sent_bytes = 0;
  call.sent_bytes = &sent_bytes;
  EXPECT_EQ(JsonPost({}, call, "http://u/v1/x", posted).body.size(), posted.size());
  EXPECT_EQ(sent_bytes, posted.size());
}

// Regression: counters an upstream wrote as floats, strings or null, counters left out, and
// impossible counts were billed as reported zeros (or, for 2^63 - 1, as 9.2M USD).
TEST(Billable, OnlyReadableCountersBill) {
  struct Case {
    const char* usage;
    bool billable;
  };
  const Case cases[] = {
      {R"({"in":12,"out":3})", true},
      {R"({"in":0,"out":0})", true},
      {R"({"in":1000000000,"out":1})", true},  // kMaxTokenCount
      {R"({"in":12,"out":3,"opt":null})", true},
      {R"({"in":12,"out":3,"opt":7})", true},
      {R"({})", false},
      {R"({"in":12})", false},
      {R"({"in":12,"out":null})", false},
      {R"({"in":12,"out":3.0})", false},
      {R"({"in":12,"out":"3"})", false},
      {R"({"in":12,"out":-3})", false},
      {R"({"in":1000000001,"out":3})", false},
      {R"({"in":9223372036854775807,"out":3})", false},
      {R"({"in":18446744073709551615,"out":3})", false},
      {R"({"in":1e30,"out":3})", false},
      {R"({"in":12,"out":3,"opt":1.5})", false},
      {R"({"in":12,"out":3,"opt":"7"})", false},
  };
  for (const Case& c : cases) {
    const json::object usage = json::parse(c.usage).as_object();
    EXPECT_EQ(Billable(usage, {"in", "out"}, {"opt"}), c.billable) << c.usage;
  }
}

TEST(NestedTokens, ReadsACounterOfAPartOrZero) {
  const json::object usage =
      json::parse(R"({"a":{"n":5,"f":1.5},"b":null,"c":{"n":2000000000}})").as_object();
  EXPECT_EQ(NestedTokens(usage, "a", "n"), 5);
  EXPECT_EQ(NestedTokens(usage, "a", "f"), 0);
  EXPECT_EQ(NestedTokens(usage, "b", "n"), 0);
  EXPECT_EQ(NestedTokens(usage, "c", "n"), 0);
  EXPECT_EQ(NestedTokens(usage, "missing", "n"), 0);
}

// ClientResponse::ReadAll with a share of a budget: a stated length is reserved before the
// body is read; a body without one is counted as its string grows.
TEST(ReadAllTest, AStatedLengthIsReservedAtOnceAndABodyPastTheBudgetIsRefused) {
  core::ByteBudget budget(100);
  {
    testing::ScriptedResponse stated(200, http::Headers{{"content-length", "150"}},
                                     {std::string(150, 'x')});
    core::BudgetShare hold(&budget);
    auto body = testutil::RunTask(stated.ReadAll(1000, &hold));
    ASSERT_FALSE(body.has_value());
    EXPECT_EQ(body.error().code, core::Errc::kOverloaded);
  }
  {
    testing::ScriptedResponse chunked(200, http::Headers{},
                                      {std::string(60, 'x'), std::string(60, 'y')});
    core::BudgetShare hold(&budget);
    auto body = testutil::RunTask(chunked.ReadAll(1000, &hold));
    ASSERT_FALSE(body.has_value());
    EXPECT_EQ(body.error().code, core::Errc::kOverloaded);
  }
  EXPECT_EQ(budget.used(), 0);
  testing::ScriptedResponse fits(200, http::Headers{{"content-length", "90"}},
                                 {std::string(45, 'x'), std::string(45, 'y')});
  core::BudgetShare hold(&budget);
  auto body = testutil::RunTask(fits.ReadAll(1000, &hold));
  ASSERT_TRUE(body.has_value()) << body.error().message;
  EXPECT_EQ(body->size(), 90u);
  EXPECT_EQ(hold.bytes(), 90);  // reserved once: the string never grew past the stated length
}

TEST(ErrorParamOf, ReadsOpenAisParamAndThePathAnAnthropicMessageLeadsWith) {
  const struct {
    const char* body;
    const char* param;
  } cases[] = {
      {R"({"error":{"message":"Invalid type for 'stop'","type":"invalid_request_error",)"
       R"("param":"stop","code":"invalid_type"}})",
       "stop"},
      {R"({"error":{"message":"m","param":"messages[1].content"}})", "messages[1].content"},
      {R"({"error":{"message":"stop: m","param":null}})", ""},  // OpenAI: no param, no guess
      {R"({"error":"plain"})", ""},
      {R"({"type":"error","error":{"type":"invalid_request_error",)"
       R"("message":"max_tokens: Field required"}})",
       "max_tokens"},
      {R"({"type":"error","error":{"type":"invalid_request_error",)"
       R"("message":"messages.1.content.0.text: Input should be a valid string"}})",
       "messages.1.content.0.text"},
      {R"({"type":"error","error":{"type":"invalid_request_error",)"
       R"("message":"prompt is too long: 205000 tokens > 200000 maximum"}})",
       ""},
      {R"({"type":"error","error":{"type":"invalid_request_error",)"
       R"("message":"anthropic-version: header is required"}})",
       ""},
      {R"({"type":"error","error":{"type":"invalid_request_error","message":"a..b: x"}})", ""},
      {R"({"type":"error","error":{"type":"invalid_request_error","message":"a.: x"}})", ""},
      {R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", ""},
      {R"([1])", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ErrorParamOf(json::parse(c.body)), c.param) << c.body;
  }
}

}  // namespace
}  // namespace sy::providers::detail

namespace sy::providers::detail {
namespace {

const core::SecretScrubber kNoSecrets;

// An OpenAI Chat stream over a body that arrives in `pieces`, one per read.
std::unique_ptr<SseEventStream> OpenAiStream(std::vector<std::string> pieces) {
  return std::make_unique<SseEventStream>(
      std::make_unique<testing::ScriptedResponse>(200, testing::SseHeaders(), std::move(pieces)),
      "openai",
      [](http::SseEvent sse) {
        return DecodeOpenAiEvent(std::move(sse), "openai", kNoSecrets, core::kDefaultMaxJsonDepth);
      },
      "a stream that ended before [DONE]");
}

// Events that came in one read are handed out by NextBuffered, without reading; it never reads.
TEST(SseEventStream, NextBufferedGivesWhatTheBytesReadAlreadyHold) {
  const std::string c1 = R"({"choices":[{"delta":{"content":"a"}}]})";
  const std::string c2 = R"({"choices":[{"delta":{"content":"bc"}}]})";
  auto owned = OpenAiStream(
      {"data: " + c1 + "\n\ndata: " + c2 + "\n\ndata: {\"cut", "\n\n", "data: [DONE]\n\n"});
  SseEventStream& stream = *owned;
  EXPECT_FALSE(stream.NextBuffered().has_value());  // nothing read yet
  testutil::RunTask([&]() -> http::Task<bool> {
    auto first = co_await stream.Next();
    EXPECT_EQ((*first)->data, c1);
    co_return true;
  }());
  auto second = stream.NextBuffered();
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((**second)->data, c2);
  EXPECT_EQ((**second)->generated, (core::Generated{2, true}));
  // The next event is only partly read: NextBuffered does not read the rest.
  EXPECT_FALSE(stream.NextBuffered().has_value());
  testutil::RunTask([&]() -> http::Task<bool> {
    // It is malformed: Next fails with it; the terminal event after it is then read.
    auto bad = co_await stream.Next();
    EXPECT_FALSE(bad.has_value());
    auto done = co_await stream.Next();
    EXPECT_TRUE((*done)->terminal);
    co_return true;
  }());
  EXPECT_FALSE(stream.NextBuffered().has_value());  // after the terminal event, nothing
}

TEST(SseEventStream, NextBufferedHandsOutAFailureItHolds) {
  auto owned = OpenAiStream({"data: {}\n\ndata: not json\n\n"});
  SseEventStream& stream = *owned;
  testutil::RunTask([&]() -> http::Task<bool> {
    EXPECT_TRUE((co_await stream.Next()).has_value());
    co_return true;
  }());
  auto bad = stream.NextBuffered();
  ASSERT_TRUE(bad.has_value());
  ASSERT_FALSE(bad->has_value());
  EXPECT_EQ(bad->error().code, core::Errc::kUpstreamUnavailable);
}

}  // namespace
}  // namespace sy::providers::detail
