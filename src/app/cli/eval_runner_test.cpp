#include "app/cli/eval_runner.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "eval/suite.h"
#include "http/server.h"
#include "http/timer.h"

namespace sy::app {
namespace {

namespace json = boost::json;

// A gateway stand-in: answers every chat request after the delay its prompt names ("wait 120"),
// with the prompt as the answer.
http::Task<void> AnswerAfterTheNamedDelay(http::ServerRequest& request,
                                          http::ResponseWriter& writer) {
  const json::value body = json::parse(request.body);
  const std::string prompt(body.at("messages").at(0).at("content").as_string());
  co_await http::SleepFor(std::chrono::milliseconds(std::stoi(prompt.substr(5))));
  const json::object answer{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"choices", json::array{json::object{
                      {"index", 0},
                      {"message", json::object{{"role", "assistant"}, {"content", prompt}}},
                      {"finish_reason", "stop"}}}}};
  http::Headers headers;
  headers.Add("content-type", "application/json");
  headers.Add("x-switchyard-model", "stand-in");
  co_await writer.Send(200, headers, json::serialize(answer));
}

// Items whose answers arrive in the reverse of the suite's order when sent together.
eval::Suite ReverseArrivalSuite() {
  std::string jsonl;
  for (const char* wait : {"wait 240", "wait 120", "wait 0"}) {
    jsonl += R"({"id": ")" + std::string(wait) + R"(", "task_type": "chat", "messages": )" +
             R"([{"role": "user", "content": ")" + wait + R"("}], )" +
             R"("checker": {"type": "contains", "value": "never said"}})" + "\n";
  }
  auto suite = eval::ParseSuite(jsonl, "reverse");
  EXPECT_TRUE(suite.has_value()) << suite.error().message;
  return suite ? *suite : eval::Suite{};
}

// The report lists failures and counts P(success within k) in outcome order, so two runs of the
// same suite must give their outcomes in the same order however the answers arrive.
TEST(EvalRunnerTest, OutcomesComeInJobOrderNotArrivalOrder) {
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  auto server = http::Server::Start(options, AnswerAfterTheNamedDelay);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  const eval::Suite suite = ReverseArrivalSuite();
  ASSERT_EQ(suite.items.size(), 3u);
  auto bodies = RequestBodies(suite, core::Dialect::kOpenAiChat);
  ASSERT_TRUE(bodies.has_value());
  EvalTarget target;
  target.base_url = "http://" + (*server)->address();
  target.concurrency = 3;
  target.attempts = 2;
  std::vector<size_t> progress;
  const auto outcomes = RunPolicy(suite, *bodies, "any", target,
                                  [&](size_t done, size_t) { progress.push_back(done); });
  ASSERT_EQ(outcomes.size(), 6u);
  for (size_t job = 0; job < outcomes.size(); ++job) {
    EXPECT_EQ(outcomes[job].item, job % 3) << "job " << job;
    EXPECT_TRUE(outcomes[job].answered) << outcomes[job].failure;
    EXPECT_FALSE(outcomes[job].passed);
    EXPECT_EQ(outcomes[job].model, "stand-in");
  }
  EXPECT_EQ(progress, (std::vector<size_t>{1, 2, 3, 4, 5, 6}));
}

}  // namespace
}  // namespace sy::app
