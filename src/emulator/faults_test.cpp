#include "emulator/faults.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sy::emulator {
namespace {

namespace json = boost::json;

std::vector<Fault> Parse(std::string_view text) {
  auto faults = ParseFaults(json::parse(text));
  EXPECT_TRUE(faults.has_value()) << (faults ? "" : faults.error().message);
  return faults ? *faults : std::vector<Fault>{};
}

TEST(ParseFaultsTest, StatusAndKindFaults) {
  auto faults = Parse(R"([{"model":"gpt-5.5","status":429,"count":3,"retry_after_s":1},
                          {"model":"*","kind":"reset","after_tokens":5},
                          {"kind":"slow","rate":0.5,"seed":7}])");
  ASSERT_EQ(faults.size(), 3U);
  EXPECT_EQ(faults[0].kind, FaultKind::kStatus);
  EXPECT_EQ(faults[0].status, 429);
  EXPECT_EQ(faults[0].count, 3);
  EXPECT_EQ(faults[0].retry_after_s, 1);
  EXPECT_EQ(faults[1].kind, FaultKind::kReset);
  EXPECT_EQ(faults[1].count, 1);  // the default
  EXPECT_EQ(faults[1].after_tokens, 5);
  EXPECT_EQ(faults[2].model, "*");
  EXPECT_FALSE(faults[2].count.has_value());
  EXPECT_EQ(faults[2].rate, 0.5);
}

TEST(ParseFaultsTest, RejectsNonsense) {
  for (std::string_view bad : {R"({"model":"m"})", R"({"status":418})", R"({"kind":"explode"})",
                               R"({"status":429,"count":0})", R"({"status":429,"rate":1.5})",
                               R"({"status":429,"colour":"red"})", R"([])", R"(7)",
                               R"({"status":500,"kind":"reset"})", R"({"status":400,"param":7})"}) {
    EXPECT_FALSE(ParseFaults(json::parse(bad)).has_value()) << bad;
  }
}

TEST(ParseFaultsTest, BadOutputFaults) {
  auto faults = Parse(R"([{"model":"m","kind":"bad_output","output":"invalid_json","count":2},
                          {"kind":"bad_output","output":"schema_violation","rate":0.5},
                          {"kind":"bad_output","output":"empty"},
                          {"output":"refusal","kind":"bad_output"},
                          {"kind":"bad_output","output":"ungrounded"}])");
  ASSERT_EQ(faults.size(), 5U);
  EXPECT_EQ(faults[0].kind, FaultKind::kBadOutput);
  EXPECT_EQ(faults[0].output, BadOutput::kInvalidJson);
  EXPECT_EQ(faults[0].count, 2);
  EXPECT_EQ(faults[1].output, BadOutput::kSchemaViolation);
  EXPECT_EQ(faults[1].rate, 0.5);
  EXPECT_EQ(faults[2].output, BadOutput::kEmpty);
  EXPECT_EQ(faults[2].count, 1);
  EXPECT_EQ(faults[3].output, BadOutput::kRefusal);
  EXPECT_EQ(faults[4].output, BadOutput::kUngrounded);
}

TEST(ParseFaultsTest, BadOutputValidationNamesTheField) {
  struct Case {
    std::string_view body;
    std::string_view message;
  };
  const Case cases[] = {
      {R"({"kind":"bad_output","output":"gibberish"})",
       "faults[0].output: must be invalid_json, schema_violation, empty, refusal or ungrounded"},
      {R"([{"status":500},{"kind":"bad_output","output":7}])",
       "faults[1].output: must be invalid_json, schema_violation, empty, refusal or ungrounded"},
      {R"({"kind":"bad_output"})", "faults[0].output: required for kind bad_output"},
      {R"({"kind":"reset","output":"empty"})",
       "faults[0].output: only allowed with kind bad_output"},
      {R"({"status":500,"output":"empty"})", "faults[0].output: only allowed with kind bad_output"},
      {R"({"kind":"bad_output","output":"empty","status":500})",
       "faults[0]: give either `status` or `kind`, not both"},
  };
  for (const auto& c : cases) {
    auto faults = ParseFaults(json::parse(c.body));
    ASSERT_FALSE(faults.has_value()) << c.body;
    EXPECT_EQ(faults.error().message, c.message);
  }
}

TEST(FaultToJsonTest, ListsTheOutputOfBadOutputFaults) {
  auto faults = Parse(R"([{"model":"m","kind":"bad_output","output":"refusal","count":3},
                          {"model":"m","kind":"reset"}])");
  faults[0].id = 4;
  EXPECT_EQ(
      json::value(FaultToJson(faults[0])),
      json::parse(R"({"id":4,"model":"m","kind":"bad_output","output":"refusal","count":3})"));
  EXPECT_FALSE(FaultToJson(faults[1]).contains("output"));
}

TEST(FaultListTest, CountFaultsAreConsumedInRegistrationOrder) {
  FaultList list;
  list.Add(Parse(R"([{"model":"a","status":429,"count":2},{"model":"*","status":500}])"));
  auto struck = list.Take("b");  // "b" matches only the wildcard, which is then used up
  ASSERT_TRUE(struck.has_value());
  EXPECT_EQ(struck->status, 500);
  ASSERT_EQ(list.faults().size(), 1U);
  EXPECT_EQ(list.Take("a")->status, 429);
  EXPECT_EQ(list.Take("a")->status, 429);
  EXPECT_FALSE(list.Take("a").has_value());
  EXPECT_TRUE(list.faults().empty());
}

TEST(FaultListTest, IdsAreAssigned) {
  FaultList list;
  auto stored = list.Add(Parse(R"([{"status":429},{"status":500}])"));
  EXPECT_EQ(stored[0].id, 1);
  EXPECT_EQ(stored[1].id, 2);
  list.Clear();
  EXPECT_TRUE(list.faults().empty());
}

std::vector<bool> Pattern(std::string_view fault_text, int requests) {
  FaultList list;
  list.Add(Parse(fault_text));
  std::vector<bool> pattern;
  for (int i = 0; i < requests; ++i) pattern.push_back(list.Take("m").has_value());
  return pattern;
}

TEST(FaultListTest, RateFaultsAreDeterministic) {
  auto a = Pattern(R"({"model":"m","status":503,"rate":0.2})", 1000);
  auto b = Pattern(R"({"model":"m","status":503,"rate":0.2})", 1000);
  EXPECT_EQ(a, b);
  int strikes = static_cast<int>(std::count(a.begin(), a.end(), true));
  EXPECT_GT(strikes, 140);
  EXPECT_LT(strikes, 260);
  EXPECT_NE(a, Pattern(R"({"model":"m","status":503,"rate":0.2,"seed":9})", 1000));
  // A count caps a rate fault.
  auto capped = Pattern(R"({"model":"m","status":503,"rate":0.5,"count":3})", 200);
  EXPECT_EQ(std::count(capped.begin(), capped.end(), true), 3);
}

Reply StreamReply(int content_events) {
  Reply reply;
  reply.stream = true;
  reply.delay = std::chrono::microseconds(5);
  reply.events.push_back({std::chrono::microseconds(100), "data: {\"role\":\"assistant\"}\n\n", 0});
  for (int i = 0; i < content_events; ++i) {
    reply.events.push_back({std::chrono::microseconds(10), "data: {\"content\":\"ab\"}\n\n", 2});
  }
  reply.events.push_back({std::chrono::microseconds(0), "data: [DONE]\n\n", 0});
  return reply;
}

Fault KindFault(FaultKind kind, std::optional<int64_t> after_tokens = std::nullopt) {
  Fault fault;
  fault.kind = kind;
  fault.after_tokens = after_tokens;
  return fault;
}

TEST(ApplyTransportFaultTest, TimeoutBeforeAnything) {
  Reply reply = StreamReply(5);
  ApplyTransportFault(KindFault(FaultKind::kTimeout), reply);
  EXPECT_FALSE(reply.send_head);
  EXPECT_EQ(reply.abort, Abort::kHang);
  EXPECT_TRUE(reply.events.empty());
}

TEST(ApplyTransportFaultTest, ResetAfterTokensKeepsExactlyThoseEvents) {
  Reply reply = StreamReply(5);
  ApplyTransportFault(KindFault(FaultKind::kReset, 4), reply);
  EXPECT_TRUE(reply.send_head);
  EXPECT_EQ(reply.abort, Abort::kReset);
  ASSERT_EQ(reply.events.size(), 3U);  // the role chunk and two 2-token events
  Reply zero = StreamReply(5);
  ApplyTransportFault(KindFault(FaultKind::kReset, 0), zero);
  EXPECT_EQ(zero.events.size(), 1U);  // only the role chunk
}

TEST(ApplyTransportFaultTest, MalformedStreamBreaksADataLine) {
  Reply reply = StreamReply(4);
  ApplyTransportFault(KindFault(FaultKind::kMalformed, 2), reply);
  EXPECT_EQ(reply.abort, Abort::kNone);
  ASSERT_EQ(reply.events.size(), 3U);
  const std::string& broken = reply.events.back().bytes;
  EXPECT_EQ(broken.rfind("data: {", 0), 0U);
  EXPECT_EQ(broken.substr(broken.size() - 2), "\n\n");
  boost::system::error_code ec;
  (void)json::parse(broken.substr(6, broken.size() - 8), ec);
  EXPECT_TRUE(ec);
}

TEST(ApplyTransportFaultTest, MalformedBodyIsNotJson) {
  Reply reply = JsonReply(200, json::object{{"id", "x"}, {"choices", json::array{}}});
  ApplyTransportFault(KindFault(FaultKind::kMalformed), reply);
  boost::system::error_code ec;
  (void)json::parse(reply.body, ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(reply.status, 200);
}

TEST(ApplyTransportFaultTest, SlowMultipliesEveryDelay) {
  Reply reply = StreamReply(1);
  ApplyTransportFault(KindFault(FaultKind::kSlow), reply);
  EXPECT_EQ(reply.delay, std::chrono::microseconds(50));
  EXPECT_EQ(reply.events[0].delay, std::chrono::microseconds(1000));
  EXPECT_EQ(reply.events[1].delay, std::chrono::microseconds(100));
}

TEST(ApplyTransportFaultTest, BadOutputLeavesTheReplyAlone) {
  Reply reply = JsonReply(200, json::object{{"id", "x"}});
  std::string body = reply.body;
  ApplyTransportFault(KindFault(FaultKind::kBadOutput), reply);
  EXPECT_EQ(reply.body, body);
  EXPECT_EQ(reply.abort, Abort::kNone);
  EXPECT_TRUE(reply.send_head);
}

}  // namespace
}  // namespace sy::emulator
