// State: everything the emulator remembers between requests: latency and quality profiles,
// registered faults, the request log, the prompt caches, the task suite with its answer counts
// (quality.h), and a serial for ids.
//
// Thread-safety: every method is safe from any thread (one mutex; the emulator is a test tool).
// Ownership: owned by the Emulator; connections hold a reference while it runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "emulator/faults.h"
#include "emulator/http_message.h"
#include "emulator/profiles.h"
#include "emulator/prompt_cache.h"
#include "emulator/prompt_tokens.h"
#include "emulator/quality.h"

namespace sy::emulator {

inline constexpr size_t kMaxLoggedRequests = 1000;

class State {
 public:
  // `suite`: the task-suite items the emulator answers by quality (empty: none); `seed`: the
  // seed of their draws (Options::seed).
  explicit State(ProfileTable profiles, SuiteIndex suite = {}, uint64_t seed = 0)
      : profiles_(std::move(profiles)), suite_(std::move(suite)), seed_(seed) {}

  Profile GetProfile(std::string_view model) const;
  void PutProfile(std::string model, const Profile& profile);

  std::vector<Fault> AddFaults(std::vector<Fault> faults);
  // The fault that strikes this request, if any (consumes one strike).
  std::optional<Fault> TakeFault(std::string_view model);
  std::vector<Fault> ListFaults() const;
  void ClearFaults();

  // Records a request (the body parsed as JSON when it is JSON); keeps the last
  // kMaxLoggedRequests.
  void LogRequest(const HttpRequest& request);
  // {"requests": [...]}, oldest first.
  boost::json::object RequestsJson() const;
  void ClearRequests();

  // OpenAI automatic prompt caching: cached tokens for this prompt (see prompt_cache.h).
  int64_t OpenAiCachedTokens(std::string_view model, const PromptTokens& prompt);
  // Anthropic cache_control caching.
  PromptCache::BreakpointUse AnthropicCacheUse(std::string_view model, const PromptTokens& prompt);
  void ClearCaches();

  // Task-suite answers (quality.h). When `key` (eval::ItemKey of the request's last user
  // message) is a suite item's prompt: the texts of `n` answers by `model`, each the item's
  // answer or its wrong answer as AnswersCorrectly draws them with p = the model's quality for
  // the item's task type and consecutive counts of how often this item was already answered
  // for `model` (the counts advance by n). Otherwise, or for n < 1: empty.
  std::vector<std::string> SuiteAnswers(std::string_view key, std::string_view model, int n);
  // Forgets the answer counts: the next run draws as a fresh emulator with the same seed would.
  void ClearAnswerCounts();
  // {"items": <suite items>, "seed": <seed>, "answered": <answers given since the last clear>}
  boost::json::object EvalJson() const;

  // A number unique to this emulator run, for response ids.
  uint64_t NextSerial() { return serial_.fetch_add(1, std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  ProfileTable profiles_;
  FaultList faults_;
  std::deque<boost::json::object> requests_;
  PromptCache cache_;
  const SuiteIndex suite_;  // immutable: read without the lock
  const uint64_t seed_;
  // (item id, model) -> answers given so far; at most suite items x models asked.
  std::map<std::pair<std::string, std::string>, uint64_t, std::less<>> answer_counts_;
  uint64_t answered_ = 0;
  std::atomic<uint64_t> serial_{1};
};

}  // namespace sy::emulator
