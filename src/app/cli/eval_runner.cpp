#include "app/cli/eval_runner.h"

#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/translate/translate.h"
#include "core/money.h"
#include "core/text.h"
#include "eval/check.h"
#include "http/run_client.h"
#include "verify/verify.h"

namespace sy::app {
namespace {

namespace json = boost::json;

// An answer larger than this is not one a suite item expects; the rest is not read.
constexpr int64_t kMaxAnswerBytes = 4 << 20;

// Where each dialect is served, and what else its requests carry.
std::string_view PathOf(core::Dialect dialect) {
  switch (dialect) {
    case core::Dialect::kAnthropicMessages:
      return "/v1/messages";
    case core::Dialect::kOpenAiResponses:
      return "/v1/responses";
    case core::Dialect::kOpenAiChat:
      break;
  }
  return "/v1/chat/completions";
}

constexpr int64_t kAnthropicMaxTokens = 1024;

// Fills what the answer says into `out`; `out.failure` says why it cannot pass.
void ReadOutcome(const eval::SuiteItem& item, core::Dialect dialect, int status,
                 const http::Headers& headers, const std::string& body, eval::Outcome& out) {
  if (auto money = core::Money::Parse(headers.Get("x-switchyard-cost-usd"))) out.cost = *money;
  out.model = std::string(headers.Get("x-switchyard-model"));
  if (status < 200 || status > 299) {
    out.failure = "HTTP " + std::to_string(status) + ": " + core::ClipForEcho(body, 160);
    return;
  }
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  auto answer =
      ec ? core::Result<verify::Output>(core::MakeError(core::Errc::kInternal, "not JSON"))
         : verify::ReadAnswer(dialect, parsed);
  if (!answer) {
    out.failure = "unreadable answer: " + answer.error().message;
    return;
  }
  out.answered = true;
  const auto why = eval::Check(item.checker, *answer);
  out.passed = !why;
  if (why) out.failure = *why;
}

struct Run {
  const eval::Suite& suite;
  const std::vector<json::object>& bodies;
  const std::string& policy;
  const EvalTarget& target;
  const EvalProgress& progress;
  http::Client* client = nullptr;
  size_t next = 0;  // the next job: attempt-major, so attempt 1 of every item comes first
  size_t total = 0;
  size_t done = 0;
  // Indexed by job, not appended as answers arrive: concurrent workers finish in a different
  // order each run, and the report (its failure list, P(success within k)) reads this order.
  std::vector<eval::Outcome> outcomes;
};

http::Task<eval::Outcome> Exchange(Run& run, size_t item_index) {
  const eval::SuiteItem& item = run.suite.items[item_index];
  eval::Outcome out;
  out.item = item_index;
  http::ClientRequest request;
  request.url = run.target.base_url + std::string(PathOf(run.target.dialect));
  request.headers.Add("content-type", "application/json");
  if (run.target.dialect == core::Dialect::kAnthropicMessages) {
    request.headers.Add("anthropic-version", "2023-06-01");
  }
  if (!run.target.api_key.empty()) {
    request.headers.Add("authorization", "Bearer " + run.target.api_key);
  }
  json::object fields = run.bodies[item_index];
  fields["model"] = run.policy;
  request.body = json::serialize(fields);
  request.first_byte_timeout = run.target.timeout;
  request.deadline = std::chrono::steady_clock::now() + run.target.timeout;
  const auto start = std::chrono::steady_clock::now();
  auto response = co_await run.client->Send(std::move(request));
  if (!response) {
    out.failure = response.error().message;
  } else {
    auto body = co_await (*response)->ReadAll(kMaxAnswerBytes);
    if (!body) {
      out.failure = body.error().message;
    } else {
      ReadOutcome(item, run.target.dialect, (*response)->status(), (*response)->headers(), *body,
                  out);
    }
  }
  out.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  co_return out;
}

http::Task<void> Worker(Run& run) {
  while (run.next < run.total) {
    const size_t job = run.next++;
    run.outcomes[job] = co_await Exchange(run, job % run.suite.items.size());
    ++run.done;
    if (run.progress) run.progress(run.done, run.total);
  }
}

}  // namespace

core::Result<std::vector<json::object>> RequestBodies(const eval::Suite& suite,
                                                      core::Dialect dialect) {
  std::vector<json::object> bodies;
  bodies.reserve(suite.items.size());
  for (const eval::SuiteItem& item : suite.items) {
    json::object chat{{"messages", item.messages}};
    if (!item.response_format.is_null()) chat["response_format"] = item.response_format;
    auto body = api::translate::TranslateRequest(core::Dialect::kOpenAiChat, dialect, chat);
    if (!body) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             item.id + ": cannot be sent as " +
                                 std::string(core::DialectName(dialect)) + ": " +
                                 body.error().message);
    }
    if (dialect == core::Dialect::kAnthropicMessages && !body->contains("max_tokens")) {
      (*body)["max_tokens"] = kAnthropicMaxTokens;
    }
    bodies.push_back(std::move(*body));
  }
  return bodies;
}

std::vector<eval::Outcome> RunPolicy(const eval::Suite& suite,
                                     const std::vector<json::object>& bodies,
                                     const std::string& policy, const EvalTarget& target,
                                     const EvalProgress& progress) {
  Run run{suite, bodies, policy, target, progress, nullptr, 0, 0, 0, {}};
  run.total = suite.items.size() * static_cast<size_t>(std::max(target.attempts, 1));
  run.outcomes.resize(run.total);
  http::RunClientTasks([&](http::Client& client) {
    run.client = &client;
    std::vector<http::Task<void>> workers;
    for (int i = 0; i < std::max(target.concurrency, 1); ++i) workers.push_back(Worker(run));
    return workers;
  });
  return std::move(run.outcomes);
}

namespace {

http::Task<void> Delete(http::Client& client, const std::string& url, bool& ok) {
  http::ClientRequest request;
  request.method = "DELETE";
  request.url = url;
  request.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto response = co_await client.Send(std::move(request));
  if (!response) co_return;
  const std::chrono::milliseconds discard_timeout(5000);
  co_await (*response)->Discard(discard_timeout, 1 << 20);
  ok = (*response)->status() / 100 == 2;
}

}  // namespace

bool SendDelete(const std::string& url) {
  bool ok = false;
  http::RunClientTasks([&](http::Client& client) {
    std::vector<http::Task<void>> tasks;
    tasks.push_back(Delete(client, url, ok));
    return tasks;
  });
  return ok;
}

}  // namespace sy::app
