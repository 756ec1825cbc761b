// The Responses conversation state on the request path: a turn stored from the answer the client
// gets (EncodeAnswer) and read back into the next request's input (ExpandConversation), over an
// in-memory ResponseStore.
#include "app/conversation.h"

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "app/pipeline.h"
#include "app/services_testing.h"
#include "core/json_depth.h"
#include "tests/testutil/memory_ledger_sink.h"
#include "tests/testutil/null_response_writer.h"
#include "tests/testutil/run_task.h"

namespace sy::app {
namespace {

namespace json = boost::json;

// Rows kept in a vector; Conversation walks previous_id from `id` back to the first turn.
class MemoryResponseStore final : public ledger::ResponseStore {
 public:
  explicit MemoryResponseStore(int64_t max_bytes_per_owner = int64_t{1} << 30)
      : ResponseStore(Options{.max_bytes_per_owner = max_bytes_per_owner}) {}

  core::Result<std::optional<ledger::StoredResponse>> Get(
      std::string_view id, std::string_view, std::chrono::system_clock::time_point) override {
    const auto* row = Find(id);
    return row ? std::optional(*row) : std::nullopt;
  }
  core::Result<std::vector<ledger::StoredResponse>> Conversation(
      std::string_view id, std::string_view, std::chrono::system_clock::time_point, size_t,
      size_t) override {
    std::vector<ledger::StoredResponse> turns;
    for (const auto* row = Find(id); row;
         row = row->previous_id.empty() ? nullptr : Find(row->previous_id)) {
      turns.insert(turns.begin(), *row);
    }
    if (turns.empty()) return core::MakeError(core::Errc::kNotFound, "no such response");
    return turns;
  }
  core::Result<bool> Delete(std::string_view, std::string_view,
                            std::chrono::system_clock::time_point) override {
    return false;
  }

  core::Result<int64_t> StoredBytes(std::string_view owner) override {
    int64_t bytes = 0;
    for (const auto& row : rows) {
      if (row.owner == owner) bytes += static_cast<int64_t>(row.response_json.size());
    }
    return bytes;
  }

  std::vector<ledger::StoredResponse> rows;

 protected:
  // As the engines do: nothing stored once the owner holds the bound (here, Response bytes).
  core::Status Insert(const ledger::StoredResponse& response, int64_t) override {
    if (*StoredBytes(response.owner) >= options().max_bytes_per_owner) {
      return core::InvalidParam("store", "full");
    }
    rows.push_back(response);
    return {};
  }
  core::Result<int64_t> DeleteExpired(int64_t, int64_t) override { return 0; }

 private:
  const ledger::StoredResponse* Find(std::string_view id) const {
    for (const auto& row : rows) {
      if (row.id == id) return &row;
    }
    return nullptr;
  }
};

// A JSON schema with `levels` nested object properties around a string: 2 * levels + 1 deep.
std::string NestedSchema(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += R"({"type":"object","properties":{"a":)";
  out += R"({"type":"string"})";
  for (int i = 0; i < levels; ++i) out += "}}";
  return out;
}

// A Response object, as the client gets it, echoing a function tool whose parameters nest
// `levels` properties deep: 2 * levels + 4 levels in all (response, tools, tool, schema).
std::string ResponseEchoingTools(int levels) {
  return R"({"id":"resp_1","object":"response","status":"completed","tools":[{"type":"function",)"
         R"("name":"f","parameters":)" +
         NestedSchema(levels) +
         R"(}],"output":[{"type":"message","role":"assistant","content":[{"type":"output_text",)"
         R"("text":"ok"}]}],"usage":{"input_tokens":9,"output_tokens":1}})";
}

class ConversationTest : public ::testing::Test, protected DefaultServices {
 protected:
  ConversationTest() : ctx_(http_, writer_, services_) {
    services_.responses = &store_;
    ctx_.request.dialect = core::Dialect::kOpenAiResponses;
    ctx_.request.id = "req_1";
  }

  // EncodeAnswer for a Responses answer the client asked to store.
  void Answer(std::string body) {
    ctx_.turn.store = true;
    providers::Completion completion;
    completion.body = std::move(body);
    testutil::RunTask([&]() -> http::Task<bool> {
      co_await EncodeAnswer(ctx_, completion);
      co_return true;
    }());
  }

  MemoryResponseStore store_;
  http::ServerRequest http_;
  testutil::NullResponseWriter writer_;
  RequestContext ctx_;
};

TEST_F(ConversationTest, AnswerEchoingADeepToolSchemaIsStored) {
  // Regression: the answer was read back at Boost.JSON's default depth (32), so a Response
  // echoing a tool schema 20 properties deep (44 levels, for a body within the default
  // max_json_depth of 64) was not stored, and the next turn's previous_response_id got 404.
  ctx_.request.max_json_depth = core::kDefaultMaxJsonDepth;
  Answer(ResponseEchoingTools(20));
  ASSERT_EQ(store_.rows.size(), 1u);
  EXPECT_EQ(store_.rows[0].id, "resp_1");
  EXPECT_EQ(store_.rows[0].response_json, ResponseEchoingTools(20));
}

// Regression: a passed-through Response kept the upstream's id and was stored under it, so an
// upstream that repeated an id made the second turn's store fail (logged only) and a later
// previous_response_id continue the first conversation.
TEST_F(ConversationTest, APassedThroughResponseIsStoredUnderTheGatewaysId) {
  ctx_.turn.store = true;
  std::vector<std::string> ids;
  for (const char* request_id : {"req_0a", "req_0b"}) {
    ctx_.request.id = request_id;
    json::object response =
        json::parse(R"({"id":"resp_1","object":"response","output":[],"store":false})").as_object();
    EchoConversation(ctx_, response);
    EXPECT_EQ(response.at("id").as_string(), ResponseIdFor(ctx_.request));
    EXPECT_EQ(response.at("store").as_bool(), true);
    const auto stored = ToStore(ctx_, response);
    ASSERT_TRUE(stored.has_value());
    ids.push_back(stored->id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"resp_0a", "resp_0b"}));
}

TEST_F(ConversationTest, AnswerDeeperThanTheRequestsDepthAllowsIsNotStored) {
  ctx_.request.max_json_depth = 27;  // 27 + 16 = 43 levels allowed
  Answer(ResponseEchoingTools(20));  // 44 levels
  EXPECT_TRUE(store_.rows.empty());
}

// A key whose stored responses are full: the answer that found it full is served unstored, and
// the key's next request that asks to store is refused before anything is generated, until a
// delete makes room (audit 4: nothing bounded what a key stored). Other keys are not asked.
TEST(ConversationQuotaTest, AFullKeysNextStoringRequestIsRefusedUntilThereIsRoom) {
  MemoryResponseStore store(1);  // one byte: the first stored response fills it
  DefaultServices services;
  services.services_.responses = &store;
  http::ServerRequest http;
  testutil::NullResponseWriter writer;
  const auto request = [&](const char* key, bool answer) {
    RequestContext ctx(http, writer, services.services_);
    ctx.request.dialect = core::Dialect::kOpenAiResponses;
    ctx.request.id = std::string("req_") + key + std::to_string(store.rows.size());
    ctx.request.key_id = key;
    ctx.request.body = json::parse(R"({"model":"m","input":"Hi"})").as_object();
    EXPECT_TRUE(ReadConversation(ctx));
    auto expanded = testutil::RunTask(ExpandConversation(ctx));
    if (expanded && answer) {
      providers::Completion completion;
      completion.body = R"({"id":"resp_x","object":"response","output":[]})";
      testutil::RunTask([&]() -> http::Task<bool> {
        co_await EncodeAnswer(ctx, completion);
        co_return true;
      }());
    }
    return expanded;
  };
  ASSERT_TRUE(request("key_a", true));  // stored: now full
  ASSERT_TRUE(request("key_a", true));  // a put finds it full: served, not stored
  EXPECT_EQ(store.rows.size(), 1u);
  EXPECT_TRUE(store.FoundFull("key_a"));
  auto refused = request("key_a", false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(refused.error().param, "store");
  EXPECT_TRUE(request("key_b", true));   // another key stores
  store.rows.erase(store.rows.begin());  // key_a's response deleted
  EXPECT_TRUE(request("key_a", false));
  EXPECT_FALSE(store.FoundFull("key_a"));
}

TEST_F(ConversationTest, StoredItemsDeeperThan32LevelsAreReadBackIntoTheNextTurn) {
  // A stored turn whose input holds a function_call_output with a deep JSON value (as a
  // client may send: 2 * 20 + 1 + 2 levels in the stored array).
  ledger::StoredResponse turn;
  turn.id = "resp_0";
  turn.input_json =
      R"([{"type":"message","role":"user","content":"Hi","x":)" + NestedSchema(20) + "}]";
  turn.output_json = R"([{"type":"message","role":"assistant","content":[{"type":"output_text",)"
                     R"("text":"Hello"}]}])";
  ASSERT_TRUE(store_.Put(turn).has_value());
  ctx_.request.body = json::parse(R"({"model":"m","input":"And then?"})").as_object();
  ctx_.turn.previous_id = "resp_0";
  auto expanded = testutil::RunTask(ExpandConversation(ctx_));
  ASSERT_TRUE(expanded.has_value()) << expanded.error().message;
  const auto& input = ctx_.request.body.at("input").as_array();
  ASSERT_EQ(input.size(), 3u);
  EXPECT_EQ(input[0].at("content"), "Hi");
  EXPECT_EQ(input[1].at("role"), "assistant");
  EXPECT_EQ(input[2].at("content"), "And then?");
}

// A turn stored under a larger server.max_json_depth than the gateway's now: leaving it out would
// send the model a conversation with a hole in it, so the request fails and says what to do.
TEST_F(ConversationTest, AStoredTurnDeeperThanTheLimitNowFailsTheRequestClearly) {
  ledger::StoredResponse turn;
  turn.id = "resp_0";
  turn.input_json =
      R"([{"type":"message","role":"user","content":"Hi","x":)" + NestedSchema(20) + "}]";
  turn.output_json = "[]";
  ASSERT_TRUE(store_.Put(turn).has_value());
  ctx_.request.max_json_depth = 20;  // 20 + 16 = 36 levels allowed; the turn nests 43
  ctx_.request.body = json::parse(R"({"model":"m","input":"And then?"})").as_object();
  ctx_.turn.previous_id = "resp_0";
  auto expanded = testutil::RunTask(ExpandConversation(ctx_));
  ASSERT_FALSE(expanded.has_value());
  EXPECT_EQ(expanded.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(expanded.error().param, "previous_response_id");
  EXPECT_NE(expanded.error().message.find("server.max_json_depth 20"), std::string::npos)
      << expanded.error().message;
}

TEST_F(ConversationTest, AnUnreadableStoredTurnIsAnInternalError) {
  ledger::StoredResponse turn;
  turn.id = "resp_0";
  turn.input_json = R"([{"type":"message","role":"user","content":"Hi"}])";
  turn.output_json = R"({"not":"an array"})";
  ASSERT_TRUE(store_.Put(turn).has_value());
  ctx_.request.body = json::parse(R"({"model":"m","input":"And then?"})").as_object();
  ctx_.turn.previous_id = "resp_0";
  auto expanded = testutil::RunTask(ExpandConversation(ctx_));
  ASSERT_FALSE(expanded.has_value());
  EXPECT_EQ(expanded.error().code, core::Errc::kInternal);
}

}  // namespace
}  // namespace sy::app
