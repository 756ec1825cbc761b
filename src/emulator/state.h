// State: everything the emulator remembers between requests: latency profiles, registered
// faults, the request log, the prompt caches, and a serial for ids.
//
// Thread-safety: every method is safe from any thread (one mutex; the emulator is a test tool).
// Ownership: owned by the Emulator; connections hold a reference while it runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "emulator/faults.h"
#include "emulator/http_message.h"
#include "emulator/profiles.h"
#include "emulator/prompt_cache.h"
#include "emulator/prompt_tokens.h"

namespace sy::emulator {

inline constexpr size_t kMaxLoggedRequests = 1000;

class State {
 public:
  explicit State(ProfileTable profiles) : profiles_(std::move(profiles)) {}

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

  // A number unique to this emulator run, for response ids.
  uint64_t NextSerial() { return serial_.fetch_add(1, std::memory_order_relaxed); }

 private:
  mutable std::mutex mu_;
  ProfileTable profiles_;
  FaultList faults_;
  std::deque<boost::json::object> requests_;
  PromptCache cache_;
  std::atomic<uint64_t> serial_{1};
};

}  // namespace sy::emulator
