#include "app/access_log.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/text.h"
#include "core/thread_name.h"

namespace sy::app {
namespace {

constexpr size_t kMaxPromptBytes = 1024;

// The prompt's texts in order, clipped: enough to recognise a request, bounded.
std::string PromptText(const core::Prompt& prompt) {
  std::string out;
  for (const auto& t : prompt.texts) {
    if (out.size() >= kMaxPromptBytes) break;
    if (!out.empty()) out += "\n";
    out.append(t.text.substr(0, kMaxPromptBytes - std::min(out.size(), kMaxPromptBytes)));
  }
  return core::ClipForEcho(out, kMaxPromptBytes);
}

}  // namespace

std::string AccessLine(const ledger::Record& r, const core::Prompt* prompt) {
  boost::json::object line{{"ts_ms", r.started_at_ms},
                           {"request_id", r.request_id},
                           {"tenant", r.tenant},
                           {"key_id", r.key_id},
                           {"task_id", r.task_id},
                           {"dialect", r.dialect},
                           {"endpoint", r.endpoint},
                           {"requested_model", r.requested_model},
                           {"model", r.chosen_model},
                           {"provider", r.provider},
                           {"profile", r.profile},
                           {"rule", r.rule},
                           {"task_type", r.task_type},
                           {"status", r.status},
                           {"error_code", r.error_code},
                           {"stream", r.stream},
                           {"latency_ms", r.latency_ms},
                           {"attempts", r.attempts.size()},
                           {"input_tokens", r.usage.input_tokens},
                           {"output_tokens", r.usage.output_tokens},
                           {"cost_usd", r.cost.ToString()}};
  line["ttft_ms"] = r.ttft_ms ? boost::json::value(*r.ttft_ms) : boost::json::value(nullptr);
  if (prompt) line["prompt"] = PromptText(*prompt);
  return boost::json::serialize(line);
}

core::Result<std::unique_ptr<AccessLog>> AccessLog::Open(const config::AccessLogConfig& config,
                                                         const core::SecretScrubber& secrets) {
  std::FILE* out = stdout;
  const bool owned = config.path != "-";
  if (owned) {
    out = std::fopen(config.path.c_str(), "a");
    if (!out) {
      return core::MakeError(core::Errc::kInternal,
                             "access_log.path: cannot open " + config.path + " for appending");
    }
  }
  return std::unique_ptr<AccessLog>(new AccessLog(out, owned, config.log_prompts, secrets));
}

AccessLog::AccessLog(std::FILE* out, bool owned, bool log_prompts,
                     const core::SecretScrubber& secrets)
    : out_(out), owned_(owned), log_prompts_(log_prompts), secrets_(secrets) {
  thread_ = std::thread([this] {
    core::NameThisThread("sy-access-log");
    Run();
  });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (owned_) std::fclose(out_);
}

void AccessLog::Write(const ledger::Record& record, const core::Prompt& prompt) {
  std::string line = secrets_.Scrub(AccessLine(record, log_prompts_ ? &prompt : nullptr));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lines_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    lines_.push_back(std::move(line));
  }
  cv_.notify_one();
}

uint64_t AccessLog::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void AccessLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !lines_.empty(); });
    std::deque<std::string> batch;
    batch.swap(lines_);
    const bool stopping = stop_;
    lock.unlock();
    for (const auto& line : batch) {
      std::fwrite(line.data(), 1, line.size(), out_);
      std::fputc('\n', out_);
    }
    std::fflush(out_);
    lock.lock();
    if (stopping && lines_.empty()) return;
  }
}

}  // namespace sy::app
