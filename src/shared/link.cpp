#include "shared/link.h"

#include <cstdio>

namespace sy::shared {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RedisLink::RedisLink(RedisTarget target, std::chrono::milliseconds timeout, std::string what,
                     std::vector<const RedisScript*> scripts)
    : target_(std::move(target)),
      timeout_(timeout),
      what_(std::move(what)),
      scripts_(std::move(scripts)) {}

bool RedisLink::due() const {
  return up() || SteadyMs() >= retry_at_ms_.load(std::memory_order_relaxed);
}

RedisConnection* RedisLink::Get() {
  if (conn_.ok()) return &conn_;
  if (SteadyMs() < retry_at_ms_.load(std::memory_order_relaxed)) return nullptr;
  auto conn = RedisConnection::Connect(target_, timeout_, timeout_);
  if (!conn) {
    Failed(conn.error());
    return nullptr;
  }
  std::vector<std::vector<std::string>> load;
  for (const RedisScript* script : scripts_) load.push_back({"SCRIPT", "LOAD", script->source()});
  if (!load.empty()) {
    auto loaded = conn->Pipeline(load);
    bool ok = static_cast<bool>(loaded);
    for (size_t i = 0; ok && i < scripts_.size(); ++i)
      ok = (*loaded)[i].text == scripts_[i]->sha1();
    if (!ok) {
      Failed(loaded ? core::MakeError(core::Errc::kInternal,
                                      "Redis at " + target_.display + ": could not load scripts")
                    : loaded.error());
      return nullptr;
    }
  }
  conn_ = std::move(*conn);
  if (!up_.exchange(true)) {
    std::fprintf(stderr, "switchyard: %s: %s is up\n", what_.c_str(), target_.display.c_str());
  }
  return &conn_;
}

void RedisLink::Failed(const core::Error& error) {
  const int64_t failures = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  retry_at_ms_.store(SteadyMs() + kRetryMs, std::memory_order_relaxed);
  conn_ = RedisConnection();
  if (up_.exchange(false) || failures == 1) {
    std::fprintf(stderr, "switchyard: %s: %s\n", what_.c_str(), error.message.c_str());
  }
}

}  // namespace sy::shared
