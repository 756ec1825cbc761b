#include "emulator/state.h"

#include <chrono>

#include <boost/json.hpp>

namespace sy::emulator {

namespace json = boost::json;

Profile State::GetProfile(std::string_view model) const {
  std::lock_guard lock(mu_);
  return profiles_.Get(model);
}

void State::PutProfile(std::string model, const Profile& profile) {
  std::lock_guard lock(mu_);
  profiles_.Put(std::move(model), profile);
}

std::vector<Fault> State::AddFaults(std::vector<Fault> faults) {
  std::lock_guard lock(mu_);
  return faults_.Add(std::move(faults));
}

std::optional<Fault> State::TakeFault(std::string_view model) {
  std::lock_guard lock(mu_);
  return faults_.Take(model);
}

std::vector<Fault> State::ListFaults() const {
  std::lock_guard lock(mu_);
  return faults_.faults();
}

void State::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.Clear();
}

void State::LogRequest(const HttpRequest& request) {
  json::object entry;
  entry["method"] = request.method;
  entry["path"] = request.Path();
  json::object headers;
  for (const auto& [name, value] : request.headers) {
    if (!headers.contains(name)) headers[name] = value;
  }
  entry["headers"] = std::move(headers);
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  entry["body"] = ec ? json::value(request.body) : std::move(body);
  entry["received_at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  std::lock_guard lock(mu_);
  requests_.push_back(std::move(entry));
  while (requests_.size() > kMaxLoggedRequests) requests_.pop_front();
}

json::object State::RequestsJson() const {
  json::array list;
  std::lock_guard lock(mu_);
  for (const auto& entry : requests_) list.push_back(entry);
  return json::object{{"requests", std::move(list)}};
}

void State::ClearRequests() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

int64_t State::OpenAiCachedTokens(std::string_view model, const PromptTokens& prompt) {
  std::lock_guard lock(mu_);
  return cache_.LookupAndInsertPrefix("openai\n" + std::string(model), prompt.ids());
}

PromptCache::BreakpointUse State::AnthropicCacheUse(std::string_view model,
                                                    const PromptTokens& prompt) {
  std::lock_guard lock(mu_);
  return cache_.LookupAndInsertBreakpoints("anthropic\n" + std::string(model), prompt.ids(),
                                           prompt.breakpoints());
}

void State::ClearCaches() {
  std::lock_guard lock(mu_);
  cache_.Clear();
}

std::vector<std::string> State::SuiteAnswers(std::string_view key, std::string_view model, int n) {
  std::vector<std::string> answers;
  const SuiteAnswer* item = suite_.Find(key);
  if (item == nullptr || n < 1) return answers;
  double p = 0;
  uint64_t first = 0;
  {
    std::lock_guard lock(mu_);
    p = profiles_.Get(model).quality.For(item->task_type);
    uint64_t& count = answer_counts_[std::make_pair(item->id, std::string(model))];
    first = count;
    count += static_cast<uint64_t>(n);
    answered_ += static_cast<uint64_t>(n);
  }
  for (uint64_t i = 0; i < static_cast<uint64_t>(n); ++i) {
    bool correct = AnswersCorrectly(p, seed_, item->id, model, first + i);
    answers.push_back(correct ? item->answer : item->wrong);
  }
  return answers;
}

void State::ClearAnswerCounts() {
  std::lock_guard lock(mu_);
  answer_counts_.clear();
  answered_ = 0;
}

json::object State::EvalJson() const {
  std::lock_guard lock(mu_);
  return json::object{{"items", suite_.size()}, {"seed", seed_}, {"answered", answered_}};
}

}  // namespace sy::emulator
