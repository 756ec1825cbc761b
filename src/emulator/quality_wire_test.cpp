// Task-suite answers over HTTP (quality.h): an emulator started with a small suite file and a
// profile file with quality figures answers the suite's prompts with the item's answer or its
// wrong answer, in all three dialects, JSON and SSE, and repeats a run after DELETE
// /_emulator/eval.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "emulator/emulator.h"
#include "emulator/quality.h"
#include "eval/suite.h"

namespace sy::emulator {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using net::ip::tcp;

struct Response {
  int status = 0;
  std::string body;
};

using Headers = std::map<std::string, std::string>;

const Headers kOpenAi = {{"authorization", "Bearer sk-test"}, {"content-type", "application/json"}};
const Headers kAnthropic = {{"x-api-key", "sk-ant"},
                            {"anthropic-version", "2023-06-01"},
                            {"content-type", "application/json"}};

// One request on a fresh connection; reads with a timeout so that a bug fails instead of hangs.
Response Exchange(const std::string& address, http::verb method, const std::string& target,
                  const std::string& body, const Headers& headers = kOpenAi) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  size_t colon = address.rfind(':');
  socket.connect(tcp::endpoint(net::ip::make_address(address.substr(0, colon)),
                               static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))));
  timeval tv{10, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  http::request<http::string_body> request(method, target, 11);
  request.set(http::field::host, "emulator");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  boost::system::error_code ec;
  http::read(socket, buffer, parser, ec);
  EXPECT_FALSE(ec) << ec.message();
  if (ec) return {};
  return Response{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

// The JSON payloads of an SSE body ("data: ..." lines; "[DONE]" skipped).
std::vector<json::object> SsePayloads(const std::string& body) {
  std::vector<json::object> payloads;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    size_t end = body.find('\n', pos);
    std::string data = body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data != "[DONE]") payloads.push_back(json::parse(data).as_object());
  }
  return payloads;
}

constexpr std::string_view kSuite = R"(# A small suite for the emulator's quality tests.
{"id": "capital", "task_type": "factual", "messages": [{"role": "user", "content": "What is the capital of France?"}], "checker": {"type": "contains", "value": "Paris"}, "answer": "The capital of France is Paris.", "wrong": "The capital of France is Lyon."}
{"id": "sum", "task_type": "math", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "What is 17 + 25?"}, {"type": "text", "text": "Reply with the sum."}]}], "checker": {"type": "numeric-within", "value": 42, "tolerance": 0.01}, "answer": "17 + 25 = 42"}
{"id": "label", "task_type": "classification", "messages": [{"role": "user", "content": "Label the sentiment: I love it."}], "response_format": {"type": "json_object"}, "checker": {"type": "contains", "value": "positive"}, "answer": "{\"label\":\"positive\"}", "wrong": "{\"label\":\"negative\"}"}
)";

// Every model answers at once; `oracle` is always right, `dunce` always wrong, `mixed` right but
// for math, `coin` right half of the time.
constexpr std::string_view kProfiles = R"(default: {ttft_ms: 0, tokens_per_s: 0}
profiles:
  oracle: {quality: {default: 1}}
  dunce: {quality: {default: 0}}
  mixed: {quality: {default: 1, math: 0}}
  coin: {quality: {default: 0.5}}
)";

constexpr uint64_t kSeed = 42;
constexpr const char* kCapital = "What is the capital of France?";
constexpr const char* kRight = "The capital of France is Paris.";
constexpr const char* kWrong = "The capital of France is Lyon.";

std::string ChatBody(std::string_view model, std::string_view extra = "") {
  return R"({"model":")" + std::string(model) + R"(","messages":[{"role":"user","content":")" +
         std::string(kCapital) + R"("}])" + std::string(extra) + "}";
}

class QualityWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Files of this process and test only: ctest runs the tests of this fixture in parallel
    // processes, and one rewriting a shared file under another's start read it empty.
    const std::string prefix = ::testing::TempDir() + "quality_wire_" + std::to_string(::getpid()) +
                               "_" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    suite_file_ = prefix + "_suite.jsonl";
    profiles_file_ = prefix + "_profiles.yaml";
    Options options;
    options.suite_file = suite_file_;
    options.config_file = profiles_file_;
    options.seed = kSeed;
    std::ofstream(options.suite_file) << kSuite;
    std::ofstream(options.config_file) << kProfiles;
    auto started = Emulator::Start(options);
    ASSERT_TRUE(started.has_value()) << started.error().message;
    emulator_ = std::move(*started);
  }

  void TearDown() override {
    std::remove(suite_file_.c_str());
    std::remove(profiles_file_.c_str());
  }

  Response Post(const std::string& target, const std::string& body,
                const Headers& headers = kOpenAi) {
    return Exchange(emulator_->address(), http::verb::post, target, body, headers);
  }

  // The text of a non-streamed Chat answer's first choice.
  std::string Chat(const std::string& body) {
    Response r = Post("/v1/chat/completions", body);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return std::string(json::parse(r.body).at_pointer("/choices/0/message/content").as_string());
  }

  std::string suite_file_;
  std::string profiles_file_;
  std::unique_ptr<Emulator> emulator_;
};

TEST_F(QualityWireTest, ChatGetsTheAnswerOrTheWrongOneByQuality) {
  Response r = Post("/v1/chat/completions", ChatBody("oracle"));
  ASSERT_EQ(r.status, 200) << r.body;
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at_pointer("/choices/0/message/content"), kRight);
  EXPECT_EQ(body.at_pointer("/choices/0/finish_reason"), "stop");
  EXPECT_EQ(body.at_pointer("/usage/completion_tokens"), 6);  // a token per word
  EXPECT_EQ(Chat(ChatBody("dunce")), kWrong);
  // Prompts that are not suite items still get generated prose.
  std::string other = Chat(R"({"model":"oracle","messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_NE(other, kRight);
  EXPECT_NE(other, kWrong);
}

TEST_F(QualityWireTest, TaskTypeOverridesAndTextParts) {
  // The math item's prompt is two text parts after a system message.
  const std::string sum = R"({"model":"mixed","messages":[{"role":"system","content":"Be brief."},)"
                          R"({"role":"user","content":[{"type":"text","text":"What is 17 + 25?"},)"
                          R"({"type":"text","text":"Reply with the sum."}]}]})";
  auto suite = eval::LoadSuiteFile(suite_file_);
  ASSERT_TRUE(suite.has_value());
  EXPECT_EQ(Chat(sum), eval::WrongAnswer(suite->items[1]));  // mixed: math 0
  EXPECT_EQ(Chat(ChatBody("mixed")), kRight);                // factual: the default 1
}

TEST_F(QualityWireTest, ChatStreamJsonFormatAndChoices) {
  Response r =
      Post("/v1/chat/completions",
           ChatBody("oracle", R"(,"stream":true,"stream_options":{"include_usage":true})"));
  ASSERT_EQ(r.status, 200);
  std::string text;
  int64_t tokens = -1;
  for (const auto& chunk : SsePayloads(r.body)) {
    for (const auto& choice : chunk.at("choices").as_array()) {
      const json::value* content = choice.at("delta").as_object().if_contains("content");
      if (content != nullptr && content->is_string()) text += content->as_string();
    }
    if (const json::value* usage = chunk.if_contains("usage"); usage && usage->is_object()) {
      tokens = usage->at("completion_tokens").as_int64();
    }
  }
  EXPECT_EQ(text, kRight);
  EXPECT_EQ(tokens, 6);

  // JSON format: the answer as 4-byte tokens.
  Response label =
      Post("/v1/chat/completions", R"({"model":"oracle","messages":[{"role":"user","content":)"
                                   R"("Label the sentiment: I love it."}],)"
                                   R"("response_format":{"type":"json_object"}})");
  json::value body = json::parse(label.body);
  EXPECT_EQ(body.at_pointer("/choices/0/message/content"), R"({"label":"positive"})");
  EXPECT_EQ(body.at_pointer("/usage/completion_tokens"), 5);

  // n choices draw independently, with consecutive counts.
  Response coin = Post("/v1/chat/completions", ChatBody("coin", R"(,"n":8)"));
  json::array choices = json::parse(coin.body).at("choices").as_array();
  ASSERT_EQ(choices.size(), 8U);
  for (uint64_t i = 0; i < 8; ++i) {
    bool right = AnswersCorrectly(0.5, kSeed, "capital", "coin", i);
    EXPECT_EQ(choices[i].at_pointer("/message/content"), right ? kRight : kWrong) << i;
  }
}

TEST_F(QualityWireTest, ToolCallsAreNotReplaced) {
  const std::string tools =
      R"(,"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}])";
  // Forced: the tool call.
  Response forced =
      Post("/v1/chat/completions", ChatBody("oracle", tools + R"(,"tool_choice":"required")"));
  EXPECT_EQ(json::parse(forced.body).at_pointer("/choices/0/finish_reason"), "tool_calls");
  // Offered in auto mode: the answer, no call.
  EXPECT_EQ(Chat(ChatBody("oracle", tools)), kRight);
  // After a tool result: the model reports the result.
  std::string after = Chat(
      R"({"model":"oracle","messages":[{"role":"user","content":"What is the capital of France?"},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
      R"("function":{"name":"lookup","arguments":"{}"}}]},)"
      R"({"role":"tool","tool_call_id":"c1","content":"Paris"}]})");
  EXPECT_EQ(after.rfind("The tool returned: Paris.", 0), 0U) << after;
}

TEST_F(QualityWireTest, AnthropicMessages) {
  auto body = [](std::string_view model, bool stream) {
    return R"({"model":")" + std::string(model) +
           R"(","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":[)"
           R"({"type":"text","text":"What is the capital of France?"}]}])" +
           (stream ? R"(,"stream":true})" : "}");
  };
  Response right = Post("/v1/messages", body("oracle", false), kAnthropic);
  ASSERT_EQ(right.status, 200) << right.body;
  json::value message = json::parse(right.body);
  EXPECT_EQ(message.at_pointer("/content/0/text"), kRight);
  EXPECT_EQ(message.at_pointer("/usage/output_tokens"), 6);
  EXPECT_EQ(message.at("stop_reason"), "end_turn");

  Response wrong = Post("/v1/messages", body("dunce", false), kAnthropic);
  EXPECT_EQ(json::parse(wrong.body).at_pointer("/content/0/text"), kWrong);

  Response stream = Post("/v1/messages", body("dunce", true), kAnthropic);
  std::string text;
  for (const auto& event : SsePayloads(stream.body)) {
    if (event.at("type") == "content_block_delta") {
      text += event.at("delta").at("text").as_string();
    }
  }
  EXPECT_EQ(text, kWrong);
}

TEST_F(QualityWireTest, Responses) {
  Response plain =
      Post("/v1/responses", R"({"model":"oracle","input":")" + std::string(kCapital) + R"("})");
  ASSERT_EQ(plain.status, 200) << plain.body;
  json::value response = json::parse(plain.body);
  EXPECT_EQ(response.at_pointer("/output/0/content/0/text"), kRight);

  Response items =
      Post("/v1/responses", R"({"model":"dunce","stream":true,"input":[{"role":"user","content":[)"
                            R"({"type":"input_text","text":"What is the capital of France?"}]}]})");
  std::string text;
  for (const auto& event : SsePayloads(items.body)) {
    if (event.at("type") == "response.output_text.delta") text += event.at("delta").as_string();
  }
  EXPECT_EQ(text, kWrong);
}

TEST_F(QualityWireTest, ResetRepeatsTheRun) {
  auto run = [&] {
    std::vector<std::string> answers;
    for (int i = 0; i < 12; ++i) answers.push_back(Chat(ChatBody("coin")));
    return answers;
  };
  std::vector<std::string> first = run();
  // Both answers occur, so the comparison below pins an order, not a constant.
  EXPECT_NE(std::count(first.begin(), first.end(), kRight), 0);
  EXPECT_NE(std::count(first.begin(), first.end(), kWrong), 0);
  for (uint64_t n = 0; n < first.size(); ++n) {
    EXPECT_EQ(first[n], AnswersCorrectly(0.5, kSeed, "capital", "coin", n) ? kRight : kWrong);
  }
  Response eval = Exchange(emulator_->address(), http::verb::get, "/_emulator/eval", "");
  EXPECT_EQ(json::parse(eval.body), json::parse(R"({"items":3,"seed":42,"answered":12})"));

  EXPECT_EQ(Exchange(emulator_->address(), http::verb::delete_, "/_emulator/eval", "").status, 204);
  EXPECT_EQ(run(), first);
}

TEST_F(QualityWireTest, ProfilesControlApiCarriesQuality) {
  const std::string address = emulator_->address();
  Response put = Exchange(address, http::verb::put, "/_emulator/profiles/coin",
                          R"({"quality":{"default":1,"math":0.25}})");
  ASSERT_EQ(put.status, 200) << put.body;
  Response get = Exchange(address, http::verb::get, "/_emulator/profiles/coin", "");
  EXPECT_EQ(json::parse(get.body).at("quality"), json::parse(R"({"default":1.0,"math":0.25})"));
  EXPECT_EQ(Chat(ChatBody("coin")), kRight);

  Response bad =
      Exchange(address, http::verb::put, "/_emulator/profiles/coin", R"({"quality":{"math":1.5}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("quality.math"), std::string::npos) << bad.body;

  // The vendors' spelling of a demo model reaches its built-in figures.
  Response opus = Exchange(address, http::verb::get, "/_emulator/profiles/claude-opus-4-7", "");
  EXPECT_EQ(json::parse(opus.body).at_pointer("/quality/factual"), 0.892);
}

TEST(QualityStartTest, SuiteFileErrorsAndTheDemoDefault) {
  Options options;
  options.suite_file = ::testing::TempDir() + "quality_wire_bad_suite.jsonl";
  std::ofstream(options.suite_file) << "{\"id\": \"x\"}\n";
  auto bad = Emulator::Start(options);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, core::Errc::kInvalidRequest);
  EXPECT_NE(bad.error().message.find("quality_wire_bad_suite.jsonl"), std::string::npos)
      << bad.error().message;

  options.suite_file = ::testing::TempDir() + "no_such_suite.jsonl";
  auto missing = Emulator::Start(options);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::Errc::kInvalidRequest);

  auto demo = Emulator::Start(Options{});
  ASSERT_TRUE(demo.has_value()) << demo.error().message;
  Response eval = Exchange((*demo)->address(), http::verb::get, "/_emulator/eval", "");
  EXPECT_GT(json::parse(eval.body).at("items").as_int64(), 0);
}

}  // namespace
}  // namespace sy::emulator
